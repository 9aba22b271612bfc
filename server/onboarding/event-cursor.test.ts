/**
 * The event history's cursor (GET /api/connections/{id}?events_before=): every cursor the API can
 * give out decodes to its position, and anything else — including positions past the database's
 * ranges, which made the query fail with a 500 — is refused (the route answers 422).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEventCursor, encodeEventCursor } from "./connection-repository";

const b64 = (s: string) => Buffer.from(s).toString("base64url");

describe("event cursors", () => {
  it("round-trips every position the database can hold", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true }), fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), (at, id) => {
        expect(decodeEventCursor(encodeEventCursor({ at, id }))).toEqual({ at, id });
      }),
      { seed: 20261202, numRuns: 500 },
    );
  });

  it("refuses an id past PostgreSQL's bigint and an instant past year 9999", () => {
    expect(decodeEventCursor(b64("1.9223372036854775807"))).not.toBeNull();
    expect(decodeEventCursor(b64("1.9223372036854775808"))).toBeNull();
    expect(decodeEventCursor(b64("1.9999999999999999999"))).toBeNull();
    expect(decodeEventCursor(b64("253402300799999.1"))).not.toBeNull();
    expect(decodeEventCursor(b64("253402300800000.1"))).toBeNull();
    expect(decodeEventCursor(b64("999999999999999.1"))).toBeNull();
  });

  it("refuses what encodeEventCursor never writes: leading zeros, id 0, padding, other separators, junk", () => {
    for (const text of ["01.5", "1.05", "1.0", "-1.5", "1.-5", "1,5", "1.5.6", " 1.5", "1.5 ", "1e3.5", ""]) expect(decodeEventCursor(b64(text)), text).toBeNull();
    expect(decodeEventCursor(Buffer.from("1.5").toString("base64"))).not.toBeNull(); // "MS41": the same letters in both alphabets
    expect(decodeEventCursor(`${b64("1.5")}==`)).toBeNull();
    expect(decodeEventCursor("nope!")).toBeNull();
    expect(decodeEventCursor("A".repeat(65))).toBeNull();
  });
});
