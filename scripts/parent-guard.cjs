// Preloaded (NODE_OPTIONS=--require) into processes the launcher starts: when the launcher dies
// without cleaning up (SIGKILL), its children notice the new parent and exit instead of lingering.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
