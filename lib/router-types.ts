import type { inferRouterInputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

export type RouterInputs = inferRouterInputs<AppRouter>;
export type { RouterOutputs } from "@/server/trpc/router";
