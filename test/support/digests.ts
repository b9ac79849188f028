import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { FingerprintOptions, fingerprintRepository, listInputFiles } from "../../sdk/fingerprint";

export function sha256(data: string | Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

/**
 * Every unkeyed digest that would let a reader test guesses of an input file's content:
 * the sha256 of each file, of its fingerprint line (`path\0digest\n`, the digest of a group
 * holding that file alone) and each group's digest, all as the fingerprint computes them.
 */
export function unkeyedDigests(options: FingerprintOptions): string[] {
    const files = listInputFiles(options).flatMap(f => {
        const content = sha256(fs.readFileSync(f.abs));
        return [content, sha256(`${f.rel}\0${content}\n`)];
    });
    return [...files, ...fingerprintRepository(options).map(g => g.digest)];
}

/** Every run of 16 hex digits in `text`, at every offset: what a digest, whole or cut, would leave. */
export function hexWindows(text: string): Set<string> {
    const windows = new Set<string>();
    for (const run of text.match(/[0-9a-f]{16,}/g) ?? []) {
        for (let i = 0; i + 16 <= run.length; i++) {
            windows.add(run.slice(i, i + 16));
        }
    }
    return windows;
}

/**
 * The digests of which the text holds 16 hex digits or more in a row (any part of one: a
 * truncated digest is as good for testing guesses). `text` may be its {@link hexWindows}.
 */
export function digestsFoundIn(text: string | Set<string>, digests: readonly string[]): string[] {
    const windows = typeof text === "string" ? hexWindows(text) : text;
    return digests.filter(d => {
        for (let i = 0; i + 16 <= d.length; i++) {
            if (windows.has(d.slice(i, i + 16))) {
                return true;
            }
        }
        return false;
    });
}
