// Which release reads which file (issue 17): the hooks' reading, `helmfile build`'s output
// read, and what the phases of an Infrastructure then carry.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { configsReadByHooks, readBuild, releasesOfPhase } from "../../sdk/release-inputs";
import { captured, commandOf, REPO_ROOT } from "../support/program";
import { build, renderingRepository as repository, runShop } from "../support/helmfile-build";

const E2E_FIXTURE = path.join(REPO_ROOT, "test/e2e/fixture");

describe("configsReadByHooks", () => {
    it("names the configs folders kaptain's helpers read, literally named", () => {
        const hooks = fs.readFileSync(path.join(E2E_FIXTURE, "namespaces/shop/hooks.sh"), "utf8");
        expect(configsReadByHooks(hooks)).toEqual({ names: ["app"] });
        expect(configsReadByHooks('embed_subconfig "web" nginx\nrclone_config db ./rclone.conf\n')).toEqual({
            names: ["db", "web"],
        });
        expect(configsReadByHooks("# embed_config $X in a comment\ntrue\n")).toEqual({ names: [] });
    });

    it.each([
        ["a computed name", 'for a in app web; do embed_config "$a"; done', "computed name"],
        ["merge_config", "merge_config a b c", "merge_config"],
        ["a sourced file", "source ./more-hooks.sh", "source another file"],
        ["a sourced file, with a dot", ". ./more-hooks.sh", "source another file"],
        ["a configs path read directly", 'tar czf x.tgz "$KAPTAIN_WORKING_DIRECTORY/configs/fleet"', "configs/"],
        ["a configs folder named without a slash", "cd ../../configs && ls", "configs/"],
    ])("cannot know what the hooks read with %s", (_what, hooks, reason) => {
        const result = configsReadByHooks(hooks);
        expect("reason" in result && result.reason).toContain(reason);
    });
});

describe("readBuild", () => {
    const repo = "/work/repo";

    it("reads each release's labels and its files, relative to the repository", () => {
        const read = readBuild(
            build(
                `${repo}/helmfile.yaml.gotmpl`,
                [
                    "  - name: fleet-3",
                    "    chart: ./charts/fleet",
                    "    labels: {action: install, name: fleet-3}",
                    "    values:",
                    "      - configs/fleet/3.yaml",
                    "      - replicas: 2",
                    "    set:",
                    "      - name: cert",
                    "        file: namespaces/shop/certs/fleet.pem",
                    "  - name: web",
                    "    chart: ./charts/web",
                    "    labels: {action: install}",
                ].join("\n"),
            ),
            repo,
        );
        expect(read).toEqual({
            releases: [
                {
                    name: "fleet-3",
                    labels: { action: "install", name: "fleet-3" },
                    files: ["configs/fleet/3.yaml", "namespaces/shop/certs/fleet.pem"],
                },
                { name: "web", labels: { action: "install" }, files: [] },
            ],
            environmentFiles: ["global.yaml"],
        });
    });

    it("resolves paths against the state file's folder", () => {
        const read = readBuild(
            build(`${repo}/namespaces/shop/helmfile.yaml`, "  - name: a\n    values: [../../configs/a/v.yaml]\n"),
            repo,
        );
        expect("releases" in read && read.releases[0].files).toEqual(["configs/a/v.yaml"]);
    });

    it.each([
        ["a values template", "  - name: a\n    values: [configs/a/values.yaml.gotmpl]\n", "values template"],
        ["values outside the repository", "  - name: a\n    values: [/etc/values.yaml]\n", "outside the repository"],
        ["remote values", "  - name: a\n    values: ['git::https://x/y.git@v.yaml']\n", "remote"],
        ["a valuesTemplate", "  - name: a\n    valuesTemplate: [{x: 1}]\n", "values templates"],
    ])("gives up, with the reason, on %s", (_what, releases, reason) => {
        const read = readBuild(build(`${repo}/helmfile.yaml`, releases), repo);
        expect("reason" in read && read.reason).toContain(reason);
    });

    it("gives up on sub-helmfiles and on output it cannot place", () => {
        const nested = `---\n#  Source: ${repo}/helmfile.yaml\n\nhelmfiles:\n  - path: sub/helmfile.yaml\nreleases: []\n`;
        expect(readBuild(nested, repo)).toEqual({ reason: "the helmfile includes other helmfiles (`helmfiles:`)" });
        expect("reason" in readBuild("releases:\n  - name: a\n", repo)).toBe(true);
    });
});

describe("releasesOfPhase", () => {
    const releases = [
        { name: "embedded-configs", labels: { action: "config", name: "embedded-configs" }, files: [] },
        { name: "fleet-3", labels: { action: "install", name: "fleet-3" }, files: [] },
    ];

    it("picks the releases the phase's selectors select, as helmfile does", () => {
        expect(releasesOfPhase(releases, ["action=install"])).toEqual(["fleet-3"]);
        expect(releasesOfPhase(releases, ["action=config", "name=fleet-3"])).toEqual(["embedded-configs", "fleet-3"]);
        expect(releasesOfPhase(releases, ["action!=install"])).toEqual(["embedded-configs"]);
        expect(releasesOfPhase(releases, [])).toEqual(["embedded-configs", "fleet-3"]);
    });
});

describe("an Infrastructure whose helmfile renders", () => {
    async function phases(repo: string, binary: string) {
        const engine = await runShop({ repo, binary });
        return Object.fromEntries(
            ["config", "install", "provision"].map(p => [p, captured(commandOf(engine, `shop-${p}`)).environment]),
        );
    }

    it("gives each release its own files, to the phases that select it only; what the hooks read stays shared", async () => {
        const { repo, binary } = repository();
        const env = await phases(repo, binary);
        const releaseKeys = (e: Record<string, string>) =>
            Object.keys(e)
                .filter(k => k.startsWith("KAPTAIN_RELEASE_"))
                .sort();
        expect(releaseKeys(env.install)).toEqual(
            Array.from({ length: 20 }, (_, i) => `KAPTAIN_RELEASE_fleet_${i}`).sort(),
        );
        expect(env.install.KAPTAIN_RELEASE_fleet_1).toMatch(/^[0-9a-f]{64} fleet-1$/);
        expect(releaseKeys(env.config)).toEqual([]);
        expect(releaseKeys(env.provision)).toEqual([]);
        // configs/fleet is no folder group any more; configs/app, which make-config embeds, still is.
        expect(Object.keys(env.install)).not.toContain("KAPTAIN_INPUT_configs_fleet");
        expect(Object.keys(env.config)).toContain("KAPTAIN_INPUT_configs_app");
        expect(env.install.KAPTAIN_SHARED).toMatch(/^[0-9a-f]{64}$/);
    });

    it("an edit of one release's values changes that release's entry in its phase, and no other input of any phase", async () => {
        const { repo, binary } = repository();
        const before = await phases(repo, binary);
        fs.appendFileSync(path.join(repo, "configs/fleet/1.yaml"), "# edited\n");
        const after = await phases(repo, binary);
        const changed = (p: string) =>
            Object.keys({ ...before[p], ...after[p] }).filter(k => before[p][k] !== after[p][k]);
        expect(changed("install")).toEqual(["KAPTAIN_RELEASE_fleet_1"]);
        expect(changed("config")).toEqual([]);
        expect(changed("provision")).toEqual([]);
    });

    it("an edit of a file the hooks read, or of a shared one, changes every phase's shared inputs", async () => {
        const { repo, binary } = repository();
        const before = await phases(repo, binary);
        fs.appendFileSync(path.join(repo, "configs/app/values.yaml"), "# edited\n");
        const after = await phases(repo, binary);
        for (const p of ["config", "install", "provision"]) {
            expect(after[p].KAPTAIN_INPUT_configs_app, p).not.toBe(before[p].KAPTAIN_INPUT_configs_app);
            expect(after[p].KAPTAIN_SHARED, p).not.toBe(before[p].KAPTAIN_SHARED);
        }
    });

    it("without a helmfile that renders, every file is shared, as before", async () => {
        const { repo } = repository();
        const env = await phases(repo, path.join(repo, "no-such-helmfile"));
        expect(Object.keys(env.install).filter(k => k.startsWith("KAPTAIN_RELEASE_"))).toEqual([]);
        expect(Object.keys(env.install)).toContain("KAPTAIN_INPUT_configs_fleet");
    });
});
