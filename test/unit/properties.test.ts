// Properties checked over generated inputs: quoting through real bash and the fingerprint's
// determinism.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fingerprintRepository, groupOf } from "../../sdk/fingerprint";
import { shJoin, shQuote, shSplit } from "../../sdk/script/quote";
import { tempDir } from "../support/fixture";

/** Characters that mean something to a shell or to YAML, plus plain and non-ASCII ones. */
const ALPHABET = [..."aZ09_-.=/:,@%+ \t\n'\"`$(){}[]*?!~#&;|<>\\é😀"];
const shellWord = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 12 });

/** Runs a bash script; returns the NUL-separated words it printed. */
function bashWords(script: string): string[] {
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    return r.stdout.split("\0").slice(0, -1);
}

describe("quoting, through real bash", () => {
    it("shQuote / shJoin give every word back unchanged, expanding nothing", () => {
        fc.assert(
            fc.property(fc.array(shellWord, { maxLength: 6 }), words => {
                const args = `args() { for a in "$@"; do printf '%s\\0' "$a"; done; }`;
                expect(bashWords(`${args}; ${shJoin(["args", ...words])}`)).toEqual(words);
            }),
            { numRuns: 150, seed: 20261125 },
        );
    });

    it("the first word is always run as the command, never read as an assignment or syntax", () => {
        const handler = `command_not_found_handle() { printf '%s\\0' "$@"; }`;
        fc.assert(
            fc.property(shellWord, fc.constantFrom("", "=x", "+=x", "=$(touch pwned)"), (tail, assignment) => {
                // A command with a slash is a path, not a name: bash looks no further.
                const command = `zz${tail.replace(/[\n/]/g, "")}${assignment.replace(/\//g, "")}`;
                expect(bashWords(`${handler}; ${shJoin([command, "arg"])}`)).toEqual([command, "arg"]);
            }),
            { numRuns: 150, seed: 20261125 },
        );
        for (const word of ["if", "!", "{", "coproc", "while"]) {
            expect(bashWords(`${handler}; ${shJoin([word, "arg"])}`)).toEqual([word, "arg"]);
        }
    });

    it("shSplit reads back the words shJoin wrote, as bash would", () => {
        fc.assert(
            fc.property(fc.array(shellWord, { minLength: 1, maxLength: 6 }), words => {
                expect(shSplit(shJoin(words))).toEqual(words);
            }),
            { numRuns: 300, seed: 20261125 },
        );
        // A line nested in another's argument, as a delete script names its destroy.
        const destroy = shJoin(["/opt/my tools/helmfile", "--selector", "action=install", "destroy"]);
        expect(shSplit(shJoin(["kaptain_stranded", destroy, "helm"]))).toEqual(["kaptain_stranded", destroy, "helm"]);
    });

    it("keeps safe words bare, so scripts read like hand-written ones", () => {
        expect(shJoin(["helmfile", "--selector", "action=install", "../../helmfile.yaml"])).toBe(
            "helmfile --selector action=install ../../helmfile.yaml",
        );
        expect(shJoin(["a=b", "x"])).toBe("'a=b' x");
        expect(shQuote("a=b")).toBe("a=b");
    });
});

describe("the fingerprint", () => {
    const rel = fc
        .array(fc.constantFrom("configs", "app", "a", "b.yaml", "c.conf", "namespaces", "dev", "x"), {
            minLength: 1,
            maxLength: 4,
        })
        .map(parts => parts.join("/"));
    const tree = fc.dictionary(rel, fc.string({ maxLength: 20 }), { minKeys: 1, maxKeys: 8 });

    /** Writes the files that can coexist (a path cannot be both a file and a folder). */
    function write(dir: string, files: Record<string, string>, order: string[]): Record<string, string> {
        const written: Record<string, string> = {};
        for (const name of order) {
            const file = path.join(dir, name);
            try {
                fs.mkdirSync(path.dirname(file), { recursive: true });
                fs.writeFileSync(file, files[name], { mode: written[name] === undefined ? 0o644 : 0o600 });
                written[name] = files[name];
            } catch {
                // a prefix of this path is already a file, or this path a folder
            }
        }
        return written;
    }

    it("depends on relative paths and contents only: another clone, order, mtime and mode give the same groups", () => {
        fc.assert(
            fc.property(tree, files => {
                const order = Object.keys(files);
                const a = tempDir();
                const b = tempDir();
                try {
                    const writtenA = write(a, files, order);
                    write(b, writtenA, [...Object.keys(writtenA)].reverse());
                    for (const name of Object.keys(writtenA)) {
                        fs.chmodSync(path.join(b, name), 0o755);
                        fs.utimesSync(path.join(b, name), new Date(0), new Date(0));
                    }
                    const fa = fingerprintRepository({ workingDirectory: a, namespace: "dev" });
                    expect(fingerprintRepository({ workingDirectory: b, namespace: "dev" })).toEqual(fa);
                } finally {
                    fs.rmSync(a, { recursive: true, force: true });
                    fs.rmSync(b, { recursive: true, force: true });
                }
            }),
            { numRuns: 60, seed: 20261125 },
        );
    });

    it("changes exactly the group of the file that changed", () => {
        fc.assert(
            fc.property(tree, fc.nat(), (files, pick) => {
                const dir = tempDir();
                try {
                    const written = write(dir, files, Object.keys(files));
                    const names = Object.keys(written).filter(n => !n.split("/").includes("namespaces"));
                    fc.pre(names.length > 0);
                    const before = fingerprintRepository({ workingDirectory: dir, namespace: "dev" });
                    const changed = names[pick % names.length];
                    fs.appendFileSync(path.join(dir, changed), "!");
                    const after = fingerprintRepository({ workingDirectory: dir, namespace: "dev" });
                    const differ = after.filter((g, i) => g.digest !== before[i].digest).map(g => g.group);
                    expect(differ).toEqual([groupOf(changed, 2)]);
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                }
            }),
            { numRuns: 60, seed: 20261125 },
        );
    });
});
