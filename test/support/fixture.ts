import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const FIXTURE_REPO = path.resolve(__dirname, "../fixtures/repo");
export const STUB_BIN = path.resolve(__dirname, "bin");

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = "kaptain-test-"): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Copies the fixture repository to `dest` (created) and returns `dest`. */
export function copyFixture(dest: string, source = FIXTURE_REPO): string {
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.cpSync(source, dest, { recursive: true });
    return dest;
}
