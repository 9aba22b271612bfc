/**
 * A TCP proxy between a driver and a real database server that records what the server
 * received: PostgreSQL simple-query 'Q' and extended-protocol Parse 'P' messages, MySQL
 * COM_QUERY (0x03) and COM_STMT_PREPARE (0x16) packets. It also counts TCP connections (and
 * those still open) and notes a PostgreSQL SSLRequest. Plain (non-TLS) traffic only: after TLS it stops parsing.
 */
import net from "node:net";

export type Recorded = { kind: "Q" | "P" | "COM_QUERY" | "COM_STMT_PREPARE"; sql: string };
export type RecordingProxy = {
  port: number;
  host: string;
  statements: Recorded[];
  connections: () => number;
  /** client connections not yet closed */
  open: () => number;
  sslRequests: () => number;
  close: () => Promise<void>;
};

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Parses the client→server PostgreSQL stream of one connection. */
function pgParser(out: Recorded[], onSsl: () => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  let startup = true;
  let dead = false;
  return (chunk) => {
    if (dead) return;
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (startup) {
        if (buf.length < 8) return;
        const len = buf.readInt32BE(0);
        if (buf.length < len) return;
        const code = buf.readInt32BE(4);
        buf = buf.subarray(len);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          onSsl();
          continue; // the server answers 'N' (plain) here; if it said 'S' the bytes below are TLS
        }
        startup = false;
        continue;
      }
      if (buf.length < 5) return;
      const type = String.fromCharCode(buf[0]!);
      const len = buf.readInt32BE(1);
      if (len < 4 || len > 64 * 1024 * 1024) {
        dead = true; // not PostgreSQL framing (TLS after 'S'): stop parsing
        return;
      }
      if (buf.length < 1 + len) return;
      const body = buf.subarray(5, 1 + len);
      buf = buf.subarray(1 + len);
      if (type === "Q") out.push({ kind: "Q", sql: body.subarray(0, body.indexOf(0)).toString("utf8") });
      if (type === "P") {
        const nameEnd = body.indexOf(0);
        const rest = body.subarray(nameEnd + 1);
        out.push({ kind: "P", sql: rest.subarray(0, rest.indexOf(0)).toString("utf8") });
      }
    }
  };
}

/** Parses the client→server MySQL stream: commands are the packets with sequence id 0. */
function mysqlParser(out: Recorded[]): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const len = buf.readUIntLE(0, 3);
      const seq = buf[3]!;
      if (buf.length < 4 + len) return;
      const payload = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      if (seq !== 0 || payload.length === 0) continue; // handshake response / auth switch / continuation
      if (payload[0] === 0x03) out.push({ kind: "COM_QUERY", sql: payload.subarray(1).toString("utf8") });
      if (payload[0] === 0x16) out.push({ kind: "COM_STMT_PREPARE", sql: payload.subarray(1).toString("utf8") });
    }
  };
}

export async function startRecordingProxy(opts: {
  protocol: "postgres" | "mysql";
  upstream: { host: string; port: number };
  listenHost?: string;
}): Promise<RecordingProxy> {
  const statements: Recorded[] = [];
  let connections = 0;
  let open = 0;
  let ssl = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    open++;
    client.once("close", () => open--);
    sockets.add(client);
    const upstream = net.connect(opts.upstream.port, opts.upstream.host);
    sockets.add(upstream);
    const parse = opts.protocol === "postgres" ? pgParser(statements, () => ssl++) : mysqlParser(statements);
    client.on("data", (c: Buffer) => {
      parse(c);
      upstream.write(c);
    });
    upstream.on("data", (c: Buffer) => client.write(c));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  const host = opts.listenHost ?? "127.0.0.1";
  await new Promise<void>((r, j) => server.once("error", j).listen(0, host, () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    host,
    statements,
    connections: () => connections,
    open: () => open,
    sslRequests: () => ssl,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
