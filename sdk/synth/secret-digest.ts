import { createHmac, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SECRET_MARKER } from "./engine";

/**
 * synth must say *that* a secret input changed (a password edited in secret.yaml re-runs
 * the phases), and where, never how. plan.json holds a keyed digest of each secret input,
 * by its path (`environment.KAPTAIN_INPUT_configs_redis`): an HMAC with a key that lives
 * outside the plan, in this user's cache folder (mode 600), so that a plan that is shared
 * or committed cannot be used to guess a short password, nor a file's content from its
 * fingerprint. A plan made with another machine's key compares as "changed" throughout.
 */
export function secretDigests(inputs: unknown, redacted: unknown, key: Buffer): Record<string, string> | undefined {
    const digests: Record<string, string> = {};
    const walk = (value: unknown, marker: unknown, at: string): void => {
        if (marker === SECRET_MARKER) {
            digests[at] = createHmac("sha256", key)
                .update(`${at}\0${JSON.stringify(value)}`)
                .digest("hex")
                .slice(0, 32);
        } else if (typeof marker === "object" && marker !== null && typeof value === "object" && value !== null) {
            for (const k of Object.keys(marker).sort()) {
                const next = at === "" ? k : `${at}.${k}`;
                walk((value as Record<string, unknown>)[k], (marker as Record<string, unknown>)[k], next);
            }
        }
    };
    walk(inputs, redacted, "");
    return Object.keys(digests).length > 0 ? digests : undefined;
}

/** The secret inputs whose value differs between two plans of a resource, by path; only those digested on both sides. */
export function changedSecrets(
    before: Readonly<Record<string, string>> | undefined,
    after: Readonly<Record<string, string>> | undefined,
): string[] {
    if (before === undefined || after === undefined) {
        return [];
    }
    return Object.keys(after)
        .filter(at => before[at] !== undefined && before[at] !== after[at])
        .sort();
}

/** Where this user's key lives: `$XDG_CACHE_HOME/pulumi-kaptain/`, else `~/.cache/pulumi-kaptain/`. */
export function secretsDigestKeyFile(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
    return path.join(env.XDG_CACHE_HOME || path.join(home, ".cache"), "pulumi-kaptain", "synth-secrets.key");
}

const KEY_BYTES = 32;

/**
 * This user's key for {@link secretsDigest}, made on first use: written whole to a private
 * file and linked into place, so no synth ever reads a half-written key. Undefined when no
 * key can be kept (a read-only home): synth then says nothing about secret changes, and
 * says so. A key file of the wrong size is never used.
 */
export function secretsDigestKey(file = secretsDigestKeyFile()): Buffer | undefined {
    const usable = (): Buffer | undefined => {
        try {
            const key = fs.readFileSync(file);
            return key.length === KEY_BYTES ? key : undefined;
        } catch {
            return undefined;
        }
    };
    const existing = usable();
    if (existing !== undefined || fs.existsSync(file)) {
        return existing;
    }
    const staged = `${file}.${process.pid}.new`;
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        fs.writeFileSync(staged, randomBytes(KEY_BYTES), { mode: 0o600 });
        fs.linkSync(staged, file);
    } catch {
        // Another synth linked its key first, or nothing can be written here.
    } finally {
        try {
            fs.rmSync(staged, { force: true });
        } catch {
            // its folder could not be made: there is nothing to remove
        }
    }
    return usable();
}
