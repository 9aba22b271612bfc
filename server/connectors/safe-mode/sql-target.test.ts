import { describe, expect, it } from "vitest";
import { pgSslOf } from "../drivers/postgres";
import { databaseTls, isLoopbackAddress, tlsRequestOf } from "./sql-target";

describe("databaseTls (verified TLS by default off loopback)", () => {
  it.each(["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])("loopback %s may be plain unless TLS is asked for", (a) => {
    expect(isLoopbackAddress(a)).toBe(true);
    expect(databaseTls("localhost", a, "default")).toEqual({ tls: false });
    expect(databaseTls("localhost", a, "disable")).toEqual({ tls: false });
    expect(databaseTls("localhost", a, "require")).toEqual({ tls: true, verify: false, servername: "localhost" });
    expect(databaseTls("localhost", a, "verify")).toEqual({ tls: true, verify: true, servername: "localhost" });
  });

  it.each(["10.1.2.3", "192.168.1.5", "fd00::2", "93.184.216.34", "::7f00:1", "0.0.0.0"])("non-loopback %s always gets verified TLS, whatever was asked", (a) => {
    expect(isLoopbackAddress(a)).toBe(false);
    for (const req of ["default", "disable", "require", "verify"] as const) {
      expect(databaseTls("db.corp.example", a, req)).toEqual({ tls: true, verify: true, servername: "db.corp.example" });
    }
  });

  it("reads sslmode / sslMode / useSSL / config.ssl", () => {
    const p = (q: string) => new URLSearchParams(q);
    expect(tlsRequestOf(p(""), {})).toBe("default");
    expect(tlsRequestOf(p("sslmode=disable"), {})).toBe("disable");
    expect(tlsRequestOf(p("sslmode=prefer"), {})).toBe("default");
    expect(tlsRequestOf(p("sslmode=require"), {})).toBe("require");
    expect(tlsRequestOf(p("sslmode=verify-full"), {})).toBe("verify");
    expect(tlsRequestOf(p("sslMode=VERIFY_IDENTITY"), {})).toBe("verify");
    expect(tlsRequestOf(p("useSSL=true"), {})).toBe("require");
    expect(tlsRequestOf(p(""), { ssl: true })).toBe("require");
    expect(tlsRequestOf(p(""), { ssl: false })).toBe("disable");
  });

  it("the postgres driver turns the decision into pg's ssl option, verifying the host name on the pinned address", () => {
    const params = new URLSearchParams("sslmode=disable");
    expect(pgSslOf({ host: "db.corp.example", address: "10.1.2.3", params }, { config: {}, secret: {} })).toEqual({ rejectUnauthorized: true, servername: "db.corp.example" });
    expect(pgSslOf({ host: "localhost", address: "127.0.0.1", params }, { config: {}, secret: {} })).toBe(false);
    expect(pgSslOf({ host: "db.corp.example", address: "10.1.2.3", params }, { config: {}, secret: { ca_cert: "PEM" } })).toMatchObject({ ca: "PEM", rejectUnauthorized: true });
  });
});
