import { afterAll, describe, expect, it } from "vitest";
import { createDb, rawPool, sqlRows, Prisma } from "../../server/db/client";
import { testDatabaseUrl } from "../helpers/db";

describe("the app's database sessions", () => {
  const db = createDb(testDatabaseUrl(), 2, { rawMax: 2 });
  afterAll(async () => {
    await db.$disconnect();
  });

  it("run without JIT compilation, through Prisma and through the plain pool of the hot path", async () => {
    // the server's default is on: a list page's plan of index walks passed jit_above_cost and spent 120 ms compiling
    const [viaPrisma] = await db.$queryRaw<{ jit: string }[]>`SHOW jit`;
    expect(viaPrisma?.jit).toBe("off");
    expect(rawPool(db)).toBeDefined();
    const [viaPool] = await sqlRows<{ jit: string }>(db, Prisma.sql`SHOW jit`);
    expect(viaPool?.jit).toBe("off");
  });

});
