// `kaptain init`: the files it writes for repositories of several shapes (golden files in
// test/fixtures/init-golden/, rewritten with UPDATE_GOLDEN=1), that it never overwrites,
// and that it refuses a folder that is not a kaptain repository.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { init, initReport, InitOptions } from "../../sdk/init/init";
import { InitError, looksLikeProduction } from "../../sdk/init/repository";
import { errorOf, tempDir, writeTree } from "../support/fixture";
import { filesText, INIT_SOURCES, listFilesUnder, repositoryCopy } from "../support/init-project";
import { REPO_ROOT } from "../support/program";

const GOLDEN = path.join(REPO_ROOT, "test/fixtures/init-golden");

/** The cases: a repository, the folder name it is copied to, init's options. */
const CASES: Record<string, { source: string; name: string; options?: Partial<InitOptions> }> = {
    example: { source: INIT_SOURCES.example, name: "geo-platform" },
    "root-only": { source: INIT_SOURCES["root-only"], name: "web-platform" },
    namespaces: { source: INIT_SOURCES.namespaces, name: "platform" },
    "chart-keep": { source: INIT_SOURCES.chart, name: "shop-platform" },
    "chart-take-over": {
        source: INIT_SOURCES.chart,
        name: "shop-platform",
        options: { provisionConfigs: "take-over" },
    },
    "root-namespace": { source: INIT_SOURCES.namespaces, name: "platform", options: { rootNamespace: "qa" } },
};

function golden(name: string, actual: string): void {
    const file = path.join(GOLDEN, `${name}.txt`);
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.mkdirSync(GOLDEN, { recursive: true });
        fs.writeFileSync(file, actual);
    }
    expect(actual).toBe(fs.readFileSync(file, "utf8"));
}

describe("kaptain init writes a project for each shape of repository", () => {
    for (const [name, { source, name: folder, options }] of Object.entries(CASES)) {
        it(`${name}: the files and the report match ${name}.txt`, () => {
            const dir = repositoryCopy(source, folder);
            const before = listFilesUnder(dir);
            const result = init({ directory: dir, ...options });
            // Only new files: every file of the repository is as it was.
            expect(
                listFilesUnder(dir)
                    .filter(f => !before.includes(f))
                    .sort(),
            ).toEqual([...result.written].sort());
            const report = initReport(result).split(dir).join("<DIR>");
            golden(name, `${report}\n\n${filesText(dir, result.written)}`);
        });
    }

    it("writes a stack per namespace folder, the root only when there is no namespaces/ folder", () => {
        const names = (dir: string) =>
            fs
                .readdirSync(dir)
                .filter(f => /^Pulumi\..+\.yaml$/.test(f))
                .sort();
        const namespaces = repositoryCopy(INIT_SOURCES.namespaces);
        const result = init({ directory: namespaces });
        expect(names(namespaces)).toEqual(["Pulumi.dev.yaml", "Pulumi.prod-eu.yaml", "Pulumi.staging.yaml"]);
        expect(result.repository.skipped.join()).toContain("namespaces/Not_A_Namespace/");
        const root = repositoryCopy(INIT_SOURCES["root-only"], "web-platform");
        init({ directory: root });
        expect(names(root)).toEqual(["Pulumi.web-platform.yaml"]);
    });

    it("sets each key as kaptain ran the folder: its own hooks, the repository's helmfile, protect for production", () => {
        const dir = repositoryCopy(INIT_SOURCES.namespaces);
        init({ directory: dir });
        const config = (ns: string) =>
            (
                YAML.parse(fs.readFileSync(path.join(dir, `Pulumi.${ns}.yaml`), "utf8")) as {
                    config: Record<string, unknown>;
                }
            ).config;
        expect(config("dev")).toMatchObject({
            "kaptain:namespace": "dev",
            "kaptain:hooks": "hooks.sh",
            "kaptain:helmfile": { file: "helmfile.yaml.gotmpl" },
            "kaptain:provisionConfigs": { enabled: true },
        });
        // kaptain sources only the namespace folder's hooks.sh: staging has none.
        expect(config("staging")["kaptain:hooks"]).toBe(false);
        // staging's own helmfile is what helmfile finds there.
        expect(config("staging")["kaptain:helmfile"]).toBeUndefined();
        expect(config("prod-eu")["kaptain:protect"]).toBe(true);
        // Native objects through the default provider: updated in place, never deleted and re-created.
        expect(config("dev")).toMatchObject({
            "kubernetes:enableSecretMutable": true,
            "kubernetes:enableConfigMapMutable": true,
        });
        expect(config("dev")["kaptain:protect"]).toBeUndefined();
    });

    it("tells production names from others", () => {
        for (const name of ["prod", "production", "geo-prod", "prod-eu", "prd", "live", "prod2"]) {
            expect(looksLikeProduction(name), name).toBe(true);
        }
        for (const name of ["dev", "staging", "product", "produce", "delivery", "preprod", "olive"]) {
            expect(looksLikeProduction(name), name).toBe(false);
        }
    });
});

it("leaves the default provider alone where the chart keeps the objects", () => {
    const dir = repositoryCopy(INIT_SOURCES.chart);
    init({ directory: dir });
    expect(fs.readFileSync(path.join(dir, "Pulumi.shop.yaml"), "utf8")).not.toContain("kubernetes:");
});

describe("kaptain init never overwrites", () => {
    it("keeps every file that is there, names it, and lists the .gitignore lines it lacks", () => {
        const dir = repositoryCopy(INIT_SOURCES.chart);
        writeTree(dir, { ".gitignore": "node_modules\n*.swp\n" });
        fs.symlinkSync(path.join(tempDir(), "missing.json"), path.join(dir, "tsconfig.json"));

        const result = init({ directory: dir });
        expect(result.kept).toEqual(["tsconfig.json", ".gitignore"]);
        expect(fs.readFileSync(path.join(dir, ".gitignore"), "utf8")).toBe("node_modules\n*.swp\n");
        // A dangling link is not followed: nothing is created where it points.
        expect(
            fs.existsSync(path.join(path.dirname(fs.readlinkSync(path.join(dir, "tsconfig.json"))), "missing.json")),
        ).toBe(false);
        expect(result.gitignoreMissing).toEqual(["out/", ".kaptain-lock"]);
        const report = initReport(result);
        expect(report).toContain("Kept as they were (already there):\n  tsconfig.json\n  .gitignore");
        expect(report).toContain("Add to .gitignore: out/ .kaptain-lock");
    });

    it("refuses a folder whose index.ts or package.json Pulumi.yaml would run, and writes nothing", () => {
        const dir = repositoryCopy(INIT_SOURCES.chart);
        writeTree(dir, { "package.json": '{"name":"tooling"}\n' });
        // A link that leads nowhere is there too.
        fs.symlinkSync(path.join(tempDir(), "missing.ts"), path.join(dir, "index.ts"));
        const before = listFilesUnder(dir);
        const err = errorOf(() => init({ directory: dir }));
        expect(err).toBeInstanceOf(InitError);
        expect(err.message).toContain(`${dir} already has index.ts and package.json`);
        expect(listFilesUnder(dir)).toEqual(before);
    });

    it("refuses a Pulumi.yaml that is a link leading nowhere", () => {
        const dir = repositoryCopy(INIT_SOURCES.chart);
        fs.symlinkSync(path.join(tempDir(), "missing.yaml"), path.join(dir, "Pulumi.yaml"));
        expect(errorOf(() => init({ directory: dir })).message).toContain("is a Pulumi project already");
    });

    it("refuses a Pulumi project and writes nothing", () => {
        const dir = repositoryCopy(INIT_SOURCES.chart);
        writeTree(dir, { "Pulumi.yaml": "name: mine\nruntime: nodejs\n" });
        const before = listFilesUnder(dir);
        const err = errorOf(() => init({ directory: dir }));
        expect(err).toBeInstanceOf(InitError);
        expect(err.message).toContain(`${dir} is a Pulumi project already (Pulumi.yaml exists)`);
        expect(listFilesUnder(dir)).toEqual(before);
    });
});

describe("kaptain init refuses a folder that is not a kaptain repository", () => {
    it("names a folder without a helmfile", () => {
        const dir = writeTree(tempDir(), { "README.md": "# notes\n" });
        expect(errorOf(() => init({ directory: dir })).message).toBe(
            `${dir} is not a kaptain repository: no helmfile.yaml, helmfile.yaml.gotmpl, helmfile.d ` +
                "at its top level or in namespaces/<namespace>/",
        );
        expect(listFilesUnder(dir)).toEqual(["README.md"]);
    });

    it("names the helmfile that labels no release for kaptain", () => {
        const dir = writeTree(tempDir(), {
            "helmfile.yaml": "releases:\n  - name: web\n    chart: ./web\n    labels:\n      tier: front\n",
        });
        expect(errorOf(() => init({ directory: dir })).message).toBe(
            `${dir} is not a kaptain repository: its helmfile (helmfile.yaml) labels no release ` +
                "`action: config`, `install` or `provision`, the labels kaptain deploys by",
        );
    });

    it("names a path that is not a folder, and a --namespace that is not a namespace", () => {
        const file = path.join(writeTree(tempDir(), { f: "x" }), "f");
        expect(errorOf(() => init({ directory: file })).message).toBe(`${file} is not a directory`);
        const dir = repositoryCopy(INIT_SOURCES.chart);
        expect(errorOf(() => init({ directory: dir, rootNamespace: "Bad_Name" })).message).toContain(
            "`--namespace` must be a DNS-1123 label",
        );
    });
});
