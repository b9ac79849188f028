// A kaptain repository copied into a temporary folder, for `kaptain init` and the verbs.
import * as fs from "node:fs";
import * as path from "node:path";
import { copyFixture, tempDir } from "./fixture";
import { REPO_ROOT } from "./program";

/** The repositories `kaptain init` is tested on, by case: where each is copied from. */
export const INIT_SOURCES = {
    example: path.join(REPO_ROOT, "examples/geo-platform/infra"),
    "root-only": path.join(REPO_ROOT, "test/fixtures/init-root-only"),
    namespaces: path.join(REPO_ROOT, "test/fixtures/init-namespaces"),
    chart: path.join(REPO_ROOT, "test/fixtures/init-chart"),
} as const;

/**
 * A copy of a repository in a folder of a fixed name (the project's name comes from it),
 * inside a fresh temporary folder.
 */
export function repositoryCopy(source: string, name = "platform"): string {
    return copyFixture(path.join(tempDir("kaptain-init-"), name), source);
}

/**
 * Makes `import "pulumi-kaptain"` resolve in `project` to this checkout's SDK source, and
 * `@pulumi/*` to this checkout's SDKs (one copy, as `npm install` of the package gives),
 * without a build or an install.
 */
export function linkSdk(project: string): void {
    const modules = path.join(project, "node_modules");
    const pkg = path.join(modules, "pulumi-kaptain");
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "pulumi-kaptain", main: "index.js" }));
    fs.writeFileSync(
        path.join(pkg, "index.js"),
        `module.exports = require(${JSON.stringify(path.join(REPO_ROOT, "sdk/index.ts"))});\n`,
    );
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules/@pulumi"), path.join(modules, "@pulumi"));
}

/** The files `init` wrote, as one text: `==> path <==` and the content, in the order given. */
export function filesText(project: string, files: readonly string[]): string {
    return files.map(f => `==> ${f} <==\n${fs.readFileSync(path.join(project, f), "utf8")}`).join("\n");
}

/** Every file and link below `dir`, relative, sorted; links are not followed. */
export function listFilesUnder(dir: string, rel = ""): string[] {
    return fs
        .readdirSync(path.join(dir, rel), { withFileTypes: true })
        .flatMap(e => {
            const r = rel === "" ? e.name : `${rel}/${e.name}`;
            return e.isDirectory() ? listFilesUnder(dir, r) : [r];
        })
        .sort();
}
