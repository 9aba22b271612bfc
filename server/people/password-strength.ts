/**
 * What a password set from an invite or reset link must be: at least 12 characters (at most 200,
 * the sign-in form's limit), not one of the commonly used ones, not one character or a short
 * pattern repeated, and not the email address. Answers in words, or null when it is acceptable.
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 200;

// The most common passwords of 12+ characters in public breach lists (lower-cased), and the
// product's own words.
const COMMON = new Set([
  "123456789012", "1234567890123", "12345678901234", "123456789101", "1234567891011", "111111111111", "000000000000",
  "password1234", "password12345", "password123456", "passwordpassword", "password1234567", "password!234",
  "qwerty123456", "qwertyuiop12", "qwertyuiop123", "qwertyuiopasdf", "qwertyuiopasdfgh", "1q2w3e4r5t6y", "1qaz2wsx3edc", "q1w2e3r4t5y6",
  "iloveyou1234", "letmein12345", "welcome12345", "welcome123456", "changeme1234", "changeme12345", "administrator", "administrator1",
  "abc123456789", "abcdefghijkl", "abcd1234abcd", "asdfghjkl123", "zxcvbnm12345", "football1234", "baseball1234", "superman1234",
  "sunshine1234", "princess1234", "trustno1trustno1", "monkey123456", "dragon123456", "master123456", "p@ssw0rd1234", "p@ssword1234",
  "passw0rd1234", "mypassword12", "mypassword123", "secretpassword", "correcthorsebatterystaple", "aam-onboarding", "aamonboarding1",
  "autoonboarding", "admin1234567", "admin12345678", "adminadminadmin", "welcomewelcome", "temp12345678", "summer202612", "winter202612",
]);

export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters (this one has ${password.length}).`;
  if (password.length > MAX_PASSWORD_LENGTH) return `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) return "This password is one of the most commonly used ones; choose another.";
  if (/^(.{1,4})\1+$/s.test(password)) return "This password repeats a short pattern; choose another.";
  const mail = email?.trim().toLowerCase() ?? "";
  const local = mail.split("@")[0] ?? "";
  // the email itself, or its name with a few characters around it
  if (mail && (lower.includes(mail) || (local.length >= 4 && lower.includes(local) && lower.length - local.length < 6))) {
    return "This password is too close to your email address; choose another.";
  }
  return null;
}
