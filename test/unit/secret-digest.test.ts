// The key behind synth's secret digests: made once, private, whole, never a broken one.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { changedSecrets, secretDigests, secretsDigestKey, secretsDigestKeyFile } from "../../sdk/synth/secret-digest";
import { tempDir } from "../support/fixture";

describe("the secret digest key", () => {
    it("is made on first use, 32 bytes, mode 600, and the same afterwards", () => {
        const file = secretsDigestKeyFile({ XDG_CACHE_HOME: tempDir() });
        const key = secretsDigestKey(file)!;
        expect(key).toHaveLength(32);
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        expect(secretsDigestKey(file)!.equals(key)).toBe(true);
        expect(fs.readdirSync(path.dirname(file))).toEqual(["synth-secrets.key"]);
    });

    it("is never a file of the wrong size (a write cut short): no key, so no digest", () => {
        const file = secretsDigestKeyFile({ XDG_CACHE_HOME: tempDir() });
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, "");
        expect(secretsDigestKey(file)).toBeUndefined();
    });

    it("is none where nothing can be written, and synth goes on without digests", () => {
        // A file where its folder would be: no key can be made there, not even by root.
        const blocked = path.join(tempDir(), "not-a-folder");
        fs.writeFileSync(blocked, "");
        expect(secretsDigestKey(path.join(blocked, "pulumi-kaptain", "synth-secrets.key"))).toBeUndefined();
    });
});

describe("the digests", () => {
    const key = Buffer.alloc(32, 7);
    it("one per secret input, by path: changes with its value, not with a plain one, and shows neither", () => {
        const redacted = { a: "plain", b: "[secret]", env: { X: "[secret]", Y: "plain" } };
        const inputs = { a: "plain", b: "hunter2", env: { X: "x1", Y: "plain" } };
        const one = secretDigests(inputs, redacted, key)!;
        expect(Object.keys(one)).toEqual(["b", "env.X"]);
        expect(secretDigests({ ...inputs, a: "other" }, { ...redacted, a: "other" }, key)).toEqual(one);
        const edited = secretDigests({ ...inputs, env: { X: "x2", Y: "plain" } }, redacted, key)!;
        expect(changedSecrets(one, edited)).toEqual(["env.X"]);
        expect(JSON.stringify(one)).not.toContain("hunter2");
        expect(secretDigests({ a: "plain" }, { a: "plain" }, key)).toBeUndefined();
    });

    it("the same value at two paths gives two digests: a plan does not show which secrets are equal", () => {
        const digests = secretDigests({ a: "same", b: "same" }, { a: "[secret]", b: "[secret]" }, key)!;
        expect(digests.a).not.toBe(digests.b);
    });

    it("compares only what both plans digested", () => {
        expect(changedSecrets(undefined, { a: "1" })).toEqual([]);
        expect(changedSecrets({ a: "1" }, { a: "1", b: "2" })).toEqual([]);
    });
});
