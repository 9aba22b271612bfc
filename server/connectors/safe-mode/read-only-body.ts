/**
 * Content checks for the only POSTs Safe Mode lets out: endpoints the catalog marks as read queries.
 * A GraphQL document may not contain a mutation or subscription; a SQL statement must be a single
 * read (SELECT/WITH/SHOW/DESCRIBE/EXPLAIN) with no write or DDL keyword anywhere. Both checks err on
 * the side of refusing: a read that happens to look like a write is refused, never the reverse.
 */

/** Blanks out GraphQL comments and string literals (incl. block strings) so keywords inside them don't count. */
function stripGraphqlNoise(doc: string): string {
  return doc
    .replace(/"""[\s\S]*?"""/g, '""')
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
    .replace(/#[^\n\r]*/g, " ");
}

/** The operation type of every operation definition in a GraphQL document ("query" for the shorthand `{ … }`). */
export function graphqlOperationTypes(doc: string): string[] {
  const src = stripGraphqlNoise(doc);
  const types: string[] = [];
  let depth = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === "{") {
      if (depth === 0) {
        // shorthand query, unless this brace opens a named operation/fragment already recorded
        const before = src.slice(0, i).trimEnd();
        if (before === "" || before.endsWith("}")) types.push("query");
      }
      depth++;
      i++;
      continue;
    }
    if (c === "}") {
      depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (depth === 0 && /[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))![0];
      if (word === "query" || word === "mutation" || word === "subscription") types.push(word);
      // skip to the selection set of this definition; its top-level "{" must not count as shorthand
      const open = src.indexOf("{", i);
      if (open === -1) break;
      depth = 1;
      i = open + 1;
      continue;
    }
    i++;
  }
  return types;
}

export function isReadOnlyGraphql(doc: string): { ok: true } | { ok: false; reason: string } {
  const ops = graphqlOperationTypes(doc);
  const bad = ops.find((o) => o !== "query");
  if (bad) return { ok: false, reason: `GraphQL ${bad} operations are refused in Safe Mode` };
  // Belt and braces: a keyword in operation position that the scanner might have missed.
  if (/(^|\})\s*(mutation|subscription)\b/.test(stripGraphqlNoise(doc))) {
    return { ok: false, reason: "GraphQL mutation/subscription operations are refused in Safe Mode" };
  }
  return { ok: true };
}

const SQL_READ_START = /^(select|with|show|describe|desc|explain|values)\b/i;
const SQL_WRITE_WORDS =
  /\b(insert|update|delete|merge|upsert|create|alter|drop|truncate|rename|grant|revoke|copy|call|exec|execute|lock|unload|vacuum|analyze|attach|detach|into)\b/i;

function stripSqlNoise(sql: string): string {
  return sql
    .replace(/--[^\n\r]*/g, " ")
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""')
    .replace(/`[^`]*`/g, "``")
    .replace(/\$\$[\s\S]*?\$\$/g, "''");
}

export function isReadOnlySql(sql: string): { ok: true } | { ok: false; reason: string } {
  const s = stripSqlNoise(sql).trim().replace(/;\s*$/, "");
  if (s.includes(";")) return { ok: false, reason: "multiple SQL statements are refused in Safe Mode" };
  if (!SQL_READ_START.test(s)) return { ok: false, reason: "only SELECT/SHOW/DESCRIBE statements are allowed in Safe Mode" };
  const w = SQL_WRITE_WORDS.exec(s);
  if (w) return { ok: false, reason: `SQL keyword ${w[1]!.toUpperCase()} is refused in Safe Mode` };
  return { ok: true };
}
