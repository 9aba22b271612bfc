/**
 * What the connections list's text searches need (pure: the server and the page share it).
 * Searching inside text goes through trigram indexes (pg_trgm), which can only look up a word
 * of at least 3 letters or digits; shorter text would read every row of the namespace (seconds
 * at a million connections). So:
 * - free text without such a word finds only exact intent and resource IDs and the source types
 *   that contain it; the status text is searched once it has one;
 * - the owner filter needs one (an address holds one; "a@" does not narrow anything).
 */
const SEARCH_WORD = /[\p{L}\p{N}]{3}/u;

/** Whether `text` holds a word of 3 letters or digits, i.e. can be searched inside other text. */
export function searchesInsideText(text: string): boolean {
  return SEARCH_WORD.test(text);
}

export const SHORT_SEARCH_HINT = "Type 3 letters or digits in a row to search the status text; shorter text finds exact intent and resource IDs and source types.";
export const SHORT_OWNER_MESSAGE = "Type at least 3 letters or digits in a row of the owner's address.";
