import type { NextRequest } from "next/server";
import { handlers } from "@/server/auth/config";
import { canonicalAuthRequest } from "@/server/auth/canonical-origin";

// One origin for every redirect URI: Auth.js builds the token request's redirect_uri from this
// request's URL, and the authorization request's from AUTH_URL or the Host header. `next start`
// can hand route handlers a normalised host (localhost for 127.0.0.1 / 0.0.0.0), so both are
// taken from the same place here.
export const GET = (req: NextRequest) => handlers.GET(canonicalAuthRequest(req));
export const POST = (req: NextRequest) => handlers.POST(canonicalAuthRequest(req));
