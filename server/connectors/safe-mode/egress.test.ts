import { describe, expect, it } from "vitest";
import { checkEgress, classifyAddress } from "./egress";

describe("egress guard", () => {
  it("always refuses link-local and cloud metadata addresses", async () => {
    for (const allowPrivateNetworks of [false, true]) {
      expect(classifyAddress("169.254.169.254", { allowPrivateNetworks }).allowed).toBe(false);
      expect(classifyAddress("fe80::1", { allowPrivateNetworks }).allowed).toBe(false);
      expect(classifyAddress("::ffff:169.254.169.254", { allowPrivateNetworks }).allowed).toBe(false);
      expect(classifyAddress("fd00:ec2::254", { allowPrivateNetworks }).allowed).toBe(false);
      expect(classifyAddress("0.0.0.0", { allowPrivateNetworks }).allowed).toBe(false);
      const r = await checkEgress("metadata.google.internal", { allowPrivateNetworks });
      expect(r).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    }
  });

  it("refuses private ranges and loopback unless allowed", async () => {
    for (const a of ["10.0.0.5", "192.168.1.1", "172.16.3.4", "127.0.0.1", "::1", "fd12::1"]) {
      expect(classifyAddress(a, { allowPrivateNetworks: false }).allowed).toBe(false);
      expect(classifyAddress(a, { allowPrivateNetworks: true }).allowed).toBe(true);
    }
    expect(await checkEgress("localhost", { allowPrivateNetworks: false })).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    expect(await checkEgress("127.0.0.1", { allowPrivateNetworks: true })).toMatchObject({ ok: true });
  });

  it("allows public addresses", () => {
    expect(classifyAddress("93.184.216.34", { allowPrivateNetworks: false }).allowed).toBe(true);
    expect(classifyAddress("2606:4700::1111", { allowPrivateNetworks: false }).allowed).toBe(true);
  });
});
