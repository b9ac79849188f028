import * as fs from "node:fs";
import * as path from "node:path";

/** Where the shell helpers live: next to this module, in source and in the build. */
export const HELPERS_PATH = path.join(__dirname, "helpers.sh");

let cached: string | undefined;

/** The text of helpers.sh, read once per process. */
export function helpersSource(): string {
    cached ??= fs.readFileSync(HELPERS_PATH, "utf8");
    return cached;
}

/** Tools that a hooks file calls, so the phase checks for them before it starts. */
export function toolsUsedByHooks(hooksText: string): string[] {
    const tools: string[] = [];
    if (/\brclone(_config)?\b/.test(hooksText)) {
        tools.push("rclone");
    }
    if (/\brclone_config\b/.test(hooksText)) {
        tools.push("tar", "gzip");
    }
    if (/\bgit\b/.test(hooksText)) {
        tools.push("git");
    }
    if (/\bsplit_multi_yml\b/.test(hooksText)) {
        tools.push("awk");
    }
    return tools;
}
