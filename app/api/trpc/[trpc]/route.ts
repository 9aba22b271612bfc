import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { MAX_BATCH, limitTrpcRequest } from "@/server/trpc/request-limits";
import { createContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/router";

const handler = async (raw: Request) => {
  const req = await limitTrpcRequest(raw);
  if (req instanceof Response) return req;
  return fetchRequestHandler({ endpoint: "/api/trpc", req, router: appRouter, createContext, maxBatchSize: MAX_BATCH });
};

export { handler as GET, handler as POST };
