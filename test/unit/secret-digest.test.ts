// The key behind synth's secret digests: made once, private, whole, never a broken one.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { secretsDigest, secretsDigestKey, secretsDigestKeyFile } from "../../sdk/synth/secret-digest";
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

describe("the digest", () => {
    const key = Buffer.alloc(32, 7);
    it("changes with a secret value, not with a plain one, and shows neither", () => {
        const redacted = { a: "plain", b: "[secret]" };
        const one = secretsDigest({ a: "plain", b: "hunter2" }, redacted, key)!;
        expect(secretsDigest({ a: "other", b: "hunter2" }, { ...redacted, a: "other" }, key)).toBe(one);
        expect(secretsDigest({ a: "plain", b: "hunter3" }, redacted, key)).not.toBe(one);
        expect(one).not.toContain("hunter2");
        expect(secretsDigest({ a: "plain" }, { a: "plain" }, key)).toBeUndefined();
    });
});
