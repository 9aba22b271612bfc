import Link from "next/link";

export default function Forbidden() {
  return (
    <main className="mx-auto max-w-lg px-4 py-16">
      <h1 className="text-2xl font-semibold">You need the admin role for this page</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-400">Your account can view the funnel. Ask an admin if you need more.</p>
      <Link href="/" className="mt-6 inline-block text-indigo-600 underline dark:text-indigo-400">Back to the funnel</Link>
    </main>
  );
}
