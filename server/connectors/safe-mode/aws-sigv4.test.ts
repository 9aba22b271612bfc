import { describe, expect, it } from "vitest";
import { regionOf, signAwsRequest } from "./aws-sigv4";

// AWS's published Signature V4 test suite, case "get-vanilla" (and "post-x-www-form-urlencoded"
// style headers): same inputs must give the documented signature.
const creds = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const date = new Date("2015-08-30T12:36:00Z");

describe("AWS SigV4", () => {
  it("matches AWS's test vector get-vanilla", async () => {
    const h = await signAwsRequest({ method: "GET", url: "https://example.amazonaws.com/", headers: {} }, creds, "us-east-1", "service", date);
    expect(h.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
    expect(h["x-amz-date"]).toBe("20150830T123600Z");
  });

  it("matches AWS's test vector get-vanilla-query-order-key-case", async () => {
    const h = await signAwsRequest({ method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", headers: {} }, creds, "us-east-1", "service", date);
    expect(h.authorization).toContain("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  });

  it("signs a session token and the body, and reads the region from the host", async () => {
    const h = await signAwsRequest(
      { method: "POST", url: "https://organizations.us-east-1.amazonaws.com/", headers: { "X-Amz-Target": "AWSOrganizationsV20161128.ListAccounts", "Content-Type": "application/x-amz-json-1.1" }, body: "{}" },
      { ...creds, sessionToken: "session-token-value" },
      regionOf("organizations.us-east-1.amazonaws.com"),
      "organizations",
    );
    expect(h.authorization).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/organizations\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,/);
    expect(h["x-amz-security-token"]).toBe("session-token-value");
    expect(regionOf("sts.eu-west-3.amazonaws.com")).toBe("eu-west-3");
    expect(regionOf("localhost:4566")).toBe("us-east-1");
  });
});
