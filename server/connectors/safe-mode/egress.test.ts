import { describe, expect, it } from "vitest";
import { checkEgress, classifyAddress, embeddedIPv4 } from "./egress";
import ipaddr from "ipaddr.js";

const allowed = (a: string, allowPrivateNetworks: boolean) => classifyAddress(a, { allowPrivateNetworks }).allowed;

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
    for (const a of ["10.0.0.5", "192.168.1.1", "172.16.3.4", "127.0.0.1", "::1", "fd12::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3"]) {
      expect(allowed(a, false), a).toBe(false);
      expect(allowed(a, true), a).toBe(true);
    }
    expect(await checkEgress("localhost", { allowPrivateNetworks: false })).toMatchObject({ ok: false, error: { kind: "egress_refused" } });
    expect(await checkEgress("127.0.0.1", { allowPrivateNetworks: true })).toMatchObject({ ok: true });
  });

  it("allows public addresses, IPv4 and IPv6, and translated forms of public IPv4", () => {
    for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:93.184.216.34", "64:ff9b::808:808", "2002:808:808::1"]) {
      expect(allowed(a, false), a).toBe(true);
    }
  });

  describe("IPv6 forms that carry an IPv4 address are judged by it (issue 8 item 8)", () => {
    it.each([
      ["64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254 (metadata)"],
      ["64:ff9b::169.254.169.254", "NAT64, dotted"],
      ["64:ff9b::7f00:1", "NAT64 of 127.0.0.1"],
      ["64:ff9b::a00:1", "NAT64 of 10.0.0.1"],
      ["64:ff9b:1::a9fe:a9fe", "local-use NAT64 prefix (opaque)"],
      ["2002:7f00:1::1", "6to4 of 127.0.0.1"],
      ["2002:a9fe:a9fe::", "6to4 of 169.254.169.254"],
      ["2002:c0a8:101::1", "6to4 of 192.168.1.1"],
      ["2001:0:7f00:1::1", "Teredo with server 127.0.0.1"],
      ["2001:0:4136:e378:8000:63bf:5601:5601", "Teredo with obfuscated client 169.254.169.254"],
      ["::127.0.0.1", "IPv4-compatible 127.0.0.1"],
      ["::169.254.169.254", "IPv4-compatible metadata"],
      ["::ffff:169.254.169.254", "IPv4-mapped metadata"],
      ["::ffff:0:169.254.169.254", "SIIT (rfc6145) of metadata"],
    ])("refuses %s (%s), even for approved private destinations", (a) => {
      expect(allowed(a, false)).toBe(false);
      expect(allowed(a, true)).toBe(false);
    });

    it("reads the IPv4 inside each form", () => {
      const inner = (a: string) => embeddedIPv4(ipaddr.parse(a) as ipaddr.IPv6)?.map(String);
      expect(inner("64:ff9b::a9fe:a9fe")).toEqual(["169.254.169.254"]);
      expect(inner("2002:7f00:1::1")).toEqual(["127.0.0.1"]);
      expect(inner("::127.0.0.1")).toEqual(["127.0.0.1"]);
      expect(inner("2001:0:4136:e378:8000:63bf:3fff:fdd2")).toEqual(["65.54.227.120", "192.0.2.45"]);
      expect(inner("2606:4700::1111")).toBeUndefined();
    });
  });

  it.each([
    ["0.1.2.3", "0.0.0.0/8"],
    ["0.0.0.0", "unspecified"],
    ["::", "IPv6 unspecified"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast (SSDP)"],
    ["ff02::1", "IPv6 multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.2", "TEST-NET-1"],
    ["100::1", "discard-only"],
  ])("refuses %s (%s) whatever the policy", (a) => {
    expect(allowed(a, false)).toBe(false);
    expect(allowed(a, true)).toBe(false);
  });

  it("refuses what is not an address and reports unresolvable names as network failures", async () => {
    expect(allowed("not-an-ip", true)).toBe(false);
    expect(await checkEgress("no-such-host.invalid", { allowPrivateNetworks: true })).toMatchObject({ ok: false, error: { kind: "network" } });
  });
});
