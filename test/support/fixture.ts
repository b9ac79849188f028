import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const FIXTURE_REPO = path.resolve(__dirname, "../fixtures/repo");
export const STUB_BIN = path.resolve(__dirname, "bin");

const created: string[] = [];

/** A fresh temporary folder, removed after the test file by {@link removeTempDirs}. */
export function tempDir(prefix = "kaptain-test-"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    created.push(dir);
    return dir;
}

/** Removes every folder {@link tempDir} made (test/support/cleanup.ts runs it after each file). */
export function removeTempDirs(): void {
    for (const dir of created.splice(0)) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Copies the fixture repository to `dest` (created) and returns `dest`. */
export function copyFixture(dest: string, source = FIXTURE_REPO): string {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.cpSync(source, dest, { recursive: true });
    return dest;
}

/** Every file below `dir` with its text, keyed by relative path. */
export function readTree(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (d: string, rel: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const r = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) walk(path.join(d, e.name), r);
            else out[r] = fs.readFileSync(path.join(d, e.name), "utf8");
        }
    };
    walk(dir, "");
    return out;
}

/** Writes `files` (relative path to text) below `dir` and returns `dir`. */
export function writeTree(dir: string, files: Record<string, string>): string {
    for (const [rel, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), content);
    }
    return dir;
}

/** The error `fn` throws; fails the test when it does not throw. */
export function errorOf(
    fn: () => unknown,
): Error & { propertyPath?: string; errors?: Array<{ propertyPath: string; reason: string }> } {
    try {
        fn();
    } catch (err) {
        return err as Error;
    }
    throw new Error("expected an error");
}

/**
 * The fixture repository without its provision-configs release (component mode: the
 * ProvisionConfigs component creates the objects), with `configKeys` in
 * configs/provision-configs/values.yaml, in a fresh temporary folder.
 */
export function componentModeRepo(): string {
    const repo = copyFixture(path.join(tempDir(), "repo"));
    const helmfile = path.join(repo, "helmfile.yaml");
    fs.writeFileSync(
        helmfile,
        fs.readFileSync(helmfile, "utf8").replace(/ {2}- name: provision-configs\n( {4}.*\n| {6}.*\n)*/, ""),
    );
    writeTree(repo, {
        "configs/provision-configs/values.yaml": "configKeys:\n  domain: example.test\n  replicas: 2\n",
    });
    return repo;
}

/**
 * A kubeconfig of 40 clusters with a 40 KB CA each: some 1.6 MB, far over Linux's 128 KiB
 * for one environment string (MAX_ARG_STRLEN).
 */
export const BIG_KUBECONFIG =
    "apiVersion: v1\nkind: Config\nclusters:\n" +
    Array.from(
        { length: 40 },
        (_, i) =>
            `- name: c${i}\n  cluster:\n    server: https://c${i}.example:6443\n` +
            `    certificate-authority-data: ${"QUJD".repeat(10_000)}\n`,
    ).join("");
