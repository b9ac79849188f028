// Loaded with NODE_OPTIONS=--require in the synth child: appends its peak RSS on exit
// (every Node process of the run: the largest is the synth itself).
const fs = require("node:fs");
process.on("exit", () => {
    if (process.env.BENCH_RSS_FILE) {
        fs.appendFileSync(process.env.BENCH_RSS_FILE, `${process.resourceUsage().maxRSS * 1024}\n`);
    }
});
