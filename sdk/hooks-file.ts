import { spawnSync } from "node:child_process";
import { ArgProblem, problem } from "./errors";
import { readRegularFile } from "./regular-file";

/**
 * Reads the hooks file and checks it (see {@link hooksFileProblems}). A FIFO or device in
 * its place is a problem naming it, never a read that blocks; so is a file that cannot be
 * read.
 */
export function readHooksFile(file: string): { text: string; problems: ArgProblem[] } {
    let text: string;
    try {
        text = readRegularFile(file, "utf8");
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code !== undefined ? `${file} cannot be read (${code})` : (err as Error).message;
        return { text: "", problems: [problem("hooks", why)] };
    }
    return { text, problems: hooksFileProblems(file, text) };
}

/**
 * What would make a hooks file fail, or worse pass, only at deploy time, found before
 * anything deploys (in `up`, `preview` and `kaptain synth` alike):
 * - CRLF line endings: bash reads `embed_config app\r` and embeds an empty `app\r` folder,
 *   and the phase reports success;
 * - a syntax error: `bash -n` finds it without running anything.
 */
export function hooksFileProblems(file: string, text: string): ArgProblem[] {
    const crlf = text.indexOf("\r\n");
    if (crlf >= 0) {
        const line = text.slice(0, crlf).split("\n").length;
        return [
            problem(
                "hooks",
                `${file} has Windows (CRLF) line endings, from line ${line}: bash would read every command ` +
                    "with a trailing carriage return (`embed_config app` embeds a folder `app\\r`). " +
                    "Convert it (`sed -i 's/\\r$//' hooks.sh`, or git's `core.autocrlf=input`)",
            ),
        ];
    }
    const check = spawnSync("bash", ["-n", file], { encoding: "utf8", timeout: 10_000 });
    if (check.error !== undefined) {
        return [problem("hooks", `${file} could not be checked with \`bash -n\`: ${check.error.message}`)];
    }
    if (check.status !== 0) {
        const why = check.stderr.trim().split("\n").slice(0, 3).join("; ");
        return [problem("hooks", `${file} does not parse (\`bash -n\`): ${why}`)];
    }
    return [];
}
