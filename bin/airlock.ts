#!/usr/bin/env node
// The `airlock` command. Flags and wiring live in src/cli; this file only checks the runtime and hands over.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `airlock needs Node.js 24 (this is ${process.version}). Run it through npm (\`npm start\`, \`npm run airlock -- …\`) ` +
      "or `npx airlock`, which use the Node.js 24 pinned in package.json, after `npm ci`.\n",
  );
  process.exit(1);
}
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
