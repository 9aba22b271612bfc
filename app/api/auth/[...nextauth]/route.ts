import { handleAuthRequest } from "@/server/auth/auth-route";

// One origin for every redirect URI (server/auth/auth-route.ts says why not next-auth's handlers).
export const GET = (req: Request) => handleAuthRequest(req);
export const POST = (req: Request) => handleAuthRequest(req);
