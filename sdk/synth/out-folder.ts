// Where `kaptain synth` writes, and the one rule for what it may replace: a folder holds
// SYNTH_OUTPUT_MARKER only if synth made it. `--out` may point anywhere, into the
// repository too, so synth writes into a folder only when it is new, empty or marked, and
// replaces `<out>/<stack>/` only when that folder is marked.
import * as fs from "node:fs";
import * as path from "node:path";
import { SYNTH_OUTPUT_MARKER } from "../fingerprint";
import { SynthError } from "./project";

const ROOT_MARKER_TEXT = "kaptain synth writes here; pulumi-kaptain never counts this folder as a helmfile input.\n";

/** How often a replacement is tried again when another synth of the stack replaced it meanwhile. */
const REPLACE_ATTEMPTS = 10;

/** Writes one file below the stack's new output folder. */
export type WriteFile = (rel: string, content: string, mode?: number) => void;

/**
 * Throws a {@link SynthError} naming the folder when synth may not write `<outRoot>/<stack>/`.
 * Touches nothing: call it before the program runs.
 */
export function checkOutFolder(outRoot: string, stack: string): void {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack) || stack === "." || stack === "..") {
        throw new SynthError(`stack '${stack}' cannot name a folder below ${outRoot}`);
    }
    if (!fs.existsSync(outRoot)) {
        return;
    }
    if (!fs.statSync(outRoot).isDirectory()) {
        throw new SynthError(`the output folder ${outRoot} is not a folder: nothing was written`);
    }
    if (!isMarked(outRoot) && fs.readdirSync(outRoot).length > 0) {
        throw new SynthError(
            `${outRoot} holds files that kaptain synth did not write: synth writes only into a new or empty ` +
                `folder, or one it marked with ${SYNTH_OUTPUT_MARKER}. Choose another --out; nothing was written`,
        );
    }
    const target = path.join(outRoot, stack);
    if (fs.existsSync(target) || isSymlink(target)) {
        refuseUnlessOwn(target);
    }
}

/**
 * Writes the stack's output as a whole: into a new marked folder beside `<outRoot>/<stack>/`,
 * which then takes its place by rename. A failure leaves the previous output as it was.
 */
export function writeStackFolder(outRoot: string, stack: string, fill: (write: WriteFile) => void): string[] {
    checkOutFolder(outRoot, stack);
    const target = path.join(outRoot, stack);
    const files: string[] = [];
    let staging: string | undefined;
    try {
        fs.mkdirSync(outRoot, { recursive: true });
        // The marker also keeps the folder out of every fingerprint: when the Helmfile
        // repository is the project directory, out/ must not count as an input.
        if (!isMarked(outRoot)) {
            fs.writeFileSync(path.join(outRoot, SYNTH_OUTPUT_MARKER), ROOT_MARKER_TEXT);
        }
        const folder = fs.mkdtempSync(path.join(outRoot, `.${stack}.synth-`));
        staging = folder;
        fs.writeFileSync(
            path.join(folder, SYNTH_OUTPUT_MARKER),
            `kaptain synth wrote this folder (stack ${stack}) and replaces it whole on the next synth.\n`,
        );
        fill((rel, content, mode = 0o644) => {
            fs.mkdirSync(path.dirname(path.join(folder, rel)), { recursive: true });
            fs.writeFileSync(path.join(folder, rel), content, { mode });
            files.push(rel);
        });
        replaceFolder(folder, target);
    } catch (err) {
        if (staging !== undefined) {
            fs.rmSync(staging, { recursive: true, force: true });
        }
        if (err instanceof SynthError) {
            throw err;
        }
        throw new SynthError(`could not write ${target}: ${(err as Error).message}; the previous output is unchanged`);
    }
    return files.sort();
}

/**
 * Puts `staging` in the place of `target` by rename. What was there is set aside first,
 * checked to be synth's own (a folder that appeared since {@link checkOutFolder} is put
 * back, untouched), and removed only once `staging` is in place. Another synth of the same
 * stack may finish meanwhile: its output is set aside the same way, so the last to finish
 * wins and each leaves one whole output, never a mix. `rename` is a parameter for tests.
 */
export function replaceFolder(staging: string, target: string, rename = fs.renameSync): void {
    const setAside: string[] = [];
    try {
        for (let attempt = 1; ; attempt++) {
            const aside = `${staging}.previous-${attempt}`;
            if (moveAside(target, aside, rename)) {
                setAside.push(aside);
            }
            try {
                rename(staging, target);
                break;
            } catch (err) {
                const code = (err as NodeJS.ErrnoException).code;
                if (code !== "ENOTEMPTY" && code !== "EEXIST") {
                    throw err;
                }
                if (attempt === REPLACE_ATTEMPTS) {
                    throw new SynthError(
                        `another kaptain synth of this stack kept replacing ${target} (${attempt} attempts): ` +
                            "run one synth of a stack at a time",
                    );
                }
            }
        }
    } catch (err) {
        restore(setAside, target, rename);
        throw err;
    }
    for (const aside of setAside) {
        fs.rmSync(aside, { recursive: true, force: true });
    }
}

/** Renames `target` to `aside` if it exists; refuses (and puts it back) if synth did not write it. */
function moveAside(target: string, aside: string, rename: typeof fs.renameSync): boolean {
    try {
        rename(target, aside);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
            return false;
        }
        throw err;
    }
    if (!isOwnFolder(aside)) {
        rename(aside, target);
        refuseUnlessOwn(target);
    }
    return true;
}

/** After a failed replacement: the newest output set aside goes back, if its place is free. */
function restore(setAside: string[], target: string, rename: typeof fs.renameSync): void {
    if (setAside.length > 0 && !fs.existsSync(target)) {
        rename(setAside.pop()!, target);
    }
    for (const aside of setAside) {
        fs.rmSync(aside, { recursive: true, force: true });
    }
}

function refuseUnlessOwn(target: string): void {
    if (!isOwnFolder(target)) {
        throw new SynthError(
            `${target} was not written by kaptain synth (it is not a folder holding ${SYNTH_OUTPUT_MARKER}), ` +
                "and synth replaces <out>/<stack>/ whole: move it away or choose another --out " +
                "(an output of an older kaptain synth has no marker: remove it yourself once); nothing was written",
        );
    }
}

/** A real folder (not a link to one) that holds synth's marker. */
function isOwnFolder(dir: string): boolean {
    try {
        return fs.lstatSync(dir).isDirectory() && isMarked(dir);
    } catch {
        return false;
    }
}

function isMarked(dir: string): boolean {
    try {
        return fs.lstatSync(path.join(dir, SYNTH_OUTPUT_MARKER)).isFile();
    } catch {
        return false;
    }
}

function isSymlink(p: string): boolean {
    try {
        return fs.lstatSync(p).isSymbolicLink();
    } catch {
        return false;
    }
}
