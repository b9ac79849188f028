import { createHmac, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SECRET_MARKER } from "./engine";

/**
 * synth must say *that* a secret input changed (a password edited in secret.yaml re-runs
 * the phases), never how. plan.json holds a keyed digest of a resource's secret values:
 * an HMAC with a key that lives outside the plan, in this user's cache folder (mode 600),
 * so that a plan that is shared or committed cannot be used to guess a short password.
 * A plan made with another machine's key only compares as "changed".
 */
export function secretsDigest(inputs: unknown, redacted: unknown, key: Buffer): string | undefined {
    const secrets: string[] = [];
    const walk = (value: unknown, marker: unknown, at: string): void => {
        if (marker === SECRET_MARKER) {
            secrets.push(`${at}\0${JSON.stringify(value)}`);
        } else if (typeof marker === "object" && marker !== null && typeof value === "object" && value !== null) {
            for (const k of Object.keys(marker).sort()) {
                walk((value as Record<string, unknown>)[k], (marker as Record<string, unknown>)[k], `${at}/${k}`);
            }
        }
    };
    walk(inputs, redacted, "");
    if (secrets.length === 0) {
        return undefined;
    }
    return createHmac("sha256", key).update(secrets.join("\n")).digest("hex").slice(0, 32);
}

/** This user's key for {@link secretsDigest}, made on first use. */
export function secretsDigestKey(home = os.homedir()): Buffer {
    const dir = path.join(home, ".cache", "pulumi-kaptain");
    const file = path.join(dir, "synth-secrets.key");
    try {
        return fs.readFileSync(file);
    } catch {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const key = randomBytes(32);
        try {
            fs.writeFileSync(file, key, { mode: 0o600, flag: "wx" });
            return key;
        } catch {
            return fs.readFileSync(file); // another synth made it first
        }
    }
}
