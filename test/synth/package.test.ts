// The package as a user gets it: `npm pack`ed, installed into an empty Pulumi project
// with the README's one install line, `npx kaptain synth` works on the first try.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/fixture";
import { REPO_ROOT } from "../support/program";

const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
let project: string;
let packDir: string;
/** The build output `npm pack` makes, removed after unless it was there before. */
const buildDir = path.join(REPO_ROOT, "bin");
const hadBuild = fs.existsSync(buildDir);

/** The README's install line for a Pulumi project: `npm install` and its words. */
function installLine(): string[] {
    const line = /^npm install --save-exact \S*pulumi-kaptain-[\d.]+\.tgz .*$/m.exec(readme)?.[0];
    if (line === undefined) {
        throw new Error("README has no `npm install --save-exact …/pulumi-kaptain-<version>.tgz …` line");
    }
    return line.split(/\s+/).slice(2);
}

beforeAll(() => {
    packDir = tempDir("kaptain-pack-");
    // `npm pack` alone: its prepack step builds the code (without it, the tarball has none).
    fs.rmSync(buildDir, { recursive: true, force: true });
    const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", packDir], {
        cwd: REPO_ROOT,
        encoding: "utf8",
    })
        .trim()
        .split("\n")
        .pop()!;
    project = tempDir("kaptain-user-");
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "infra", private: true }));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: infra\nruntime: nodejs\n");
    fs.writeFileSync(
        path.join(project, "Pulumi.dev.yaml"),
        "config:\n  kaptain:namespace: dev\n  kaptain:workingDirectory: infra\n  kaptain:hooks: hooks.sh\n",
    );
    fs.writeFileSync(
        path.join(project, "index.ts"),
        [
            'import { Infrastructure, infrastructureArgsFromConfig } from "pulumi-kaptain";',
            'new Infrastructure("geo", infrastructureArgsFromConfig());',
            "",
        ].join("\n"),
    );
    fs.cpSync(path.join(REPO_ROOT, "examples/geo-platform/infra"), path.join(project, "infra"), { recursive: true });
    // The tarball the README names, where this test packed it.
    const args = installLine().map(word => (word.endsWith(".tgz") ? path.join(packDir, tarball) : word));
    expect(path.basename(installLine().find(word => word.endsWith(".tgz"))!)).toBe(tarball);
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...args], {
        cwd: project,
        stdio: "pipe",
        timeout: 300_000,
    });
}, 360_000);

afterAll(() => {
    fs.rmSync(project, { recursive: true, force: true });
    fs.rmSync(packDir, { recursive: true, force: true });
    if (!hadBuild) {
        fs.rmSync(buildDir, { recursive: true, force: true });
    }
});

describe("the packed package", () => {
    it("carries the API only in its index typings, and the helpers the scripts inline", () => {
        const pkg = path.join(project, "node_modules/pulumi-kaptain");
        const typings = fs.readFileSync(path.join(pkg, "bin/sdk/index.d.ts"), "utf8");
        expect(typings).toContain("Infrastructure");
        expect(typings).not.toMatch(/buildInfrastructure|createPhaseCommand|shQuote|toYaml|syncArgv/);
        expect(fs.existsSync(path.join(pkg, "bin/sdk/script/helpers.sh"))).toBe(true);
        // One copy of the Pulumi SDK: the project's.
        expect(fs.existsSync(path.join(pkg, "node_modules/@pulumi/pulumi"))).toBe(false);
    });

    it("type-checks every TypeScript block of the README against the packed package's types", () => {
        const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map(m => m[1]);
        expect(blocks.length).toBeGreaterThanOrEqual(3);
        const dir = path.join(project, "readme-blocks");
        fs.mkdirSync(dir);
        blocks.forEach((block, i) => fs.writeFileSync(path.join(dir, `block-${i}.ts`), block));
        fs.writeFileSync(
            path.join(dir, "tsconfig.json"),
            JSON.stringify({
                compilerOptions: { strict: true, noEmit: true, module: "commonjs", target: "es2022", types: [] },
                include: ["*.ts"],
            }),
        );
        // The typescript the README's install line puts in the project.
        const run = spawnSync("npx", ["--no-install", "tsc", "-p", "readme-blocks"], {
            cwd: project,
            encoding: "utf8",
            timeout: 120_000,
        });
        expect(run.stdout + run.stderr).toBe("");
        expect(run.status).toBe(0);
    });

    it("runs `npx kaptain synth` in an empty Pulumi project on the first try", () => {
        const run = spawnSync("npx", ["--no-install", "kaptain", "synth", "--stack", "dev"], {
            cwd: project,
            encoding: "utf8",
            timeout: 120_000,
        });
        expect(run.stderr).not.toContain("kaptain synth:");
        expect(run.status).toBe(0);
        expect(run.stdout).toContain("command:local:Command geo-install");
        expect(fs.existsSync(path.join(project, "out/dev/phases/install.create.sh"))).toBe(true);
    });

    it("runs `npx kaptain init` on a kaptain repository, whose stacks then pass `npx kaptain synth`", () => {
        fs.cpSync(path.join(REPO_ROOT, "test/fixtures/init-chart"), path.join(project, "kaptain-repo"), {
            recursive: true,
        });
        const npx = (...args: string[]) =>
            spawnSync("npx", ["--no-install", "kaptain", ...args], {
                cwd: project,
                encoding: "utf8",
                timeout: 120_000,
            });
        const init = npx("init", "kaptain-repo");
        expect(init.stderr).toBe("");
        expect(init.status).toBe(0);
        // The versions the package is tested with, from its own package.json.
        const written = JSON.parse(fs.readFileSync(path.join(project, "kaptain-repo/package.json"), "utf8")) as {
            dependencies: Record<string, string>;
        };
        expect(written.dependencies["@pulumi/pulumi"]).toBe(
            installLine()
                .find(w => w.startsWith("@pulumi/pulumi@"))!
                .split("@")[2],
        );
        const synth = npx("synth", "--project", "kaptain-repo", "--stack", "shop");
        expect(synth.stderr).not.toContain("kaptain synth:");
        expect(synth.status).toBe(0);
        expect(synth.stdout).toContain("command:local:Command kaptain-repo-install");
    });
});
