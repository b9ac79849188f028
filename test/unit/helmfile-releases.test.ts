import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readHelmfileReleases, setTemplatesAside, TEMPLATED } from "../../sdk/helmfile-releases";
import { InfrastructureArgs } from "../../sdk/infrastructure-args";
import { resolveInfrastructure } from "../../sdk/infrastructure-resolve";
import { resolveLayout } from "../../sdk/layout";
import { copyFixture, tempDir, writeTree } from "../support/fixture";
import { runInfrastructure } from "../support/program";

/** A repository holding `files`, resolved for `dev` with `args`; its warnings and notes. */
function findings(files: Record<string, string>, args: Partial<InfrastructureArgs> = {}) {
    const repo = writeTree(tempDir(), files);
    const resolved = resolveInfrastructure({ namespace: "dev", workingDirectory: repo, ...args }, repo);
    return { repo, warnings: resolved.warnings, notes: resolved.notes };
}

function releases(...specs: string[]): string {
    return `releases:\n${specs.join("")}`;
}

function release(name: string, labels: string, namespace = "'{{ requiredEnv \"KAPTAIN_NAMESPACE\" }}'"): string {
    return `  - name: ${name}\n    chart: bitnami/${name}\n    namespace: ${namespace}\n    labels:\n${labels
        .split(",")
        .filter(l => l !== "")
        .map(l => `      ${l.replace("=", ": ")}\n`)
        .join("")}`;
}

describe("a release no phase selects", () => {
    it("is a warning naming the helmfile, the release and its label", () => {
        const { repo, warnings } = findings({
            "helmfile.yaml": releases(release("redis", "action=instal"), release("app", "action=install")),
        });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(
            `release "redis" in ${path.join(repo, "helmfile.yaml")} is deployed by no phase: ` +
                "the labels action=instal match none of the phases' selectors " +
                "(config: action=config; install: action=install; provision: action=provision)",
        );
        expect(warnings[0]).toContain("as with kaptain, and no phase destroys it either");
    });

    it("says so of a release without labels", () => {
        const { warnings } = findings({ "helmfile.yaml": releases(release("bare", "")) });
        expect(warnings[0]).toContain('release "bare" in');
        expect(warnings[0]).toContain("is deployed by no phase: it has no labels for the phases' selectors (config: ");
    });

    it("takes a phase's own selectors into account", () => {
        const files = {
            "helmfile.yaml": releases(release("app", "action=install"), release("web", "tier=app")),
        };
        const { warnings } = findings(files, { phases: { install: { selectors: ["tier=app"] } } });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('release "app" in');
        expect(warnings[0]).toContain("install: tier=app");
    });

    it("leaves alone a release for a phase that is off, and one helmfile switches off", () => {
        const { warnings } = findings(
            {
                "helmfile.yaml": releases(
                    release("seed", "action=provision"),
                    "  - name: old\n    chart: x/old\n    installed: false\n    labels: {action: gone}\n",
                ),
            },
            { phases: { provision: false } },
        );
        expect(warnings).toEqual([]);
    });

    it("cannot judge a label a template writes, and does not guess", () => {
        const { warnings, notes } = findings({
            "helmfile.yaml.gotmpl": releases(release("app", "action={{ .Values.action }}")),
        });
        expect(warnings).toEqual([]);
        expect(notes).toEqual([]);
        const common = findings({
            "helmfile.yaml.gotmpl":
                "commonLabels: {{ toYaml .Values.labels | nindent 2 }}\n" + releases(release("app", "")),
        });
        expect(common.warnings).toEqual([]);
    });

    it("notes releases a template writes whole", () => {
        const { repo, warnings, notes } = findings({
            "helmfile.yaml.gotmpl": "releases: {{ toYaml .Values.releases | nindent 2 }}\n",
        });
        expect(warnings).toEqual([]);
        expect(notes).toEqual([
            `release labels and namespaces in ${path.join(repo, "helmfile.yaml.gotmpl")} were not checked ` +
                "against the phases: its `releases` is written by a template expression",
        ]);
    });

    it("reads labels shared through YAML anchors and merge keys, grouping the releases one typo strands", () => {
        const { warnings } = findings({
            "helmfile.yaml.gotmpl":
                "templates:\n  install: &install\n    namespace: {{ .Values.namespace }}\n    labels:\n      action: instal\n" +
                "releases:\n  - name: redis\n    chart: bitnami/redis\n    <<: *install\n" +
                "  - name: redis-commander\n    chart: kalisio/redis-commander\n    <<: *install\n",
        });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('releases "redis", "redis-commander" in');
        expect(warnings[0]).toContain("are deployed by no phase: the labels action=instal");
    });

    it("follows sub-helmfiles, helmfile.d folders, bases, commonLabels and inherit", () => {
        const { repo, warnings } = findings({
            "helmfile.yaml": "helmfiles:\n  - path: parts/helmfile.d\n  - parts/more-*.yaml\n",
            "parts/helmfile.d/10-a.yaml": releases(release("a-typo", "action=confg")),
            "parts/helmfile.d/20-b.yaml.gotmpl": "commonLabels:\n  action: install\n" + releases(release("b", "")),
            "parts/more-1.yaml": "bases:\n  - base.yaml\n" + releases(release("c", "tier=x")),
            "parts/base.yaml": "commonLabels:\n  action: config\n",
            "parts/more-2.yaml":
                "templates:\n  install:\n    labels:\n      action: install\n" +
                "releases:\n  - name: d\n    chart: x/d\n    namespace: '{{ .Values.ns }}'\n    inherit:\n      - template: install\n",
        });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(`release "a-typo" in ${path.join(repo, "parts/helmfile.d/10-a.yaml")}`);
    });

    it("does not judge a sub-helmfile's releases by the phases when it has selectors of its own", () => {
        const { warnings } = findings({
            "helmfile.yaml": "helmfiles:\n  - path: sub.yaml\n    selectors: [tier=db]\n",
            "sub.yaml": releases(release("db", "tier=db")),
        });
        expect(warnings).toEqual([]);
    });

    it("says which file it could not read, and why, as a note rather than a warning", () => {
        const { repo, warnings, notes } = findings({
            "helmfile.yaml.gotmpl":
                "releases:\n{{- range .Values.apps }}\n  - name: {{ . }}\n    labels: {action: instal}\n{{- end }}\n",
        });
        expect(warnings).toEqual([]);
        expect(notes).toEqual([
            `release labels and namespaces in ${path.join(repo, "helmfile.yaml.gotmpl")} were not checked ` +
                "against the phases: it uses template control flow (`{{ range }}` at line 2)",
        ]);
    });

    it("reads the fixture repository and the example without a word", () => {
        const repo = copyFixture(path.join(tempDir(), "repo"));
        for (const namespace of ["dev", "prod"]) {
            const { layout } = resolveLayout({ namespace, workingDirectory: repo, programDirectory: repo });
            const reading = readHelmfileReleases(layout!);
            expect(reading.unread).toEqual([]);
            expect(reading.releases.map(r => r.name)).toEqual(["provision-configs", "redis", "seed-data"]);
        }
        const example = path.resolve(__dirname, "../../examples/geo-platform/infra");
        const { layout } = resolveLayout({ namespace: "dev", workingDirectory: example, programDirectory: example });
        const reading = readHelmfileReleases(layout!);
        expect(reading.unread).toEqual([]);
        expect(reading.releases.map(r => [r.name, r.labels === TEMPLATED ? "?" : r.labels.action])).toEqual([
            ["provision-configs", "config"],
            ["redis", "install"],
            ["redis-commander", "install"],
        ]);
    });
});

describe("a release in another namespace than the Infrastructure's", () => {
    it("is a warning naming the helmfile, the release and both namespaces", () => {
        const { repo, warnings } = findings({
            "helmfile.yaml": releases(release("redis", "action=install", "prod")),
        });
        expect(warnings).toEqual([
            `release "redis" in ${path.join(repo, "helmfile.yaml")} deploys into namespace "prod" ` +
                `(written in the release), not the Infrastructure's namespace "dev", ` +
                "where its Namespace, namespace Secret and ConfigMap go and which KAPTAIN_NAMESPACE names. " +
                'A release that follows the Infrastructure takes `namespace: {{ requiredEnv "KAPTAIN_NAMESPACE" }}`',
        ]);
    });

    it("names the helmfile's top-level namespace, which overrides every release's", () => {
        const { warnings } = findings({
            "helmfile.yaml":
                "namespace: geo\n" + releases(release("a", "action=config"), release("b", "action=install")),
        });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('releases "a", "b" in');
        expect(warnings[0]).toContain(`deploy into namespace "geo" (the helmfile's top-level \`namespace:\`)`);
    });

    it("says where a release without any namespace goes", () => {
        const { warnings } = findings({
            "helmfile.yaml": "releases:\n  - name: lost\n    chart: x/lost\n    labels: {action: install}\n",
        });
        expect(warnings[0]).toContain(`release "lost" in`);
        expect(warnings[0]).toContain(`sets no namespace: helm installs it into the kubeconfig context's namespace`);
    });

    it("leaves alone the Infrastructure's own namespace, a templated one, and releases no enabled phase deploys", () => {
        const { warnings } = findings(
            {
                "helmfile.yaml.gotmpl": releases(
                    release("same", "action=install", "dev"),
                    release("templated", "action=install", "{{ .Values.namespace }}"),
                    release("later", "action=provision", "elsewhere"),
                ),
            },
            { phases: { provision: false } },
        );
        expect(warnings).toEqual([]);
    });
});

describe("template expressions", () => {
    it("become placeholders; comments and assignments write nothing; trim markers trim", () => {
        const prepared = setTemplatesAside(
            '{{/* a comment }} */}}\n{{ $ns := requiredEnv "NS" }}\nname: {{ .Values.x }}\n' +
                "values:\n  - configs/{{`{{ .Release.Name }}`}}/values.yaml\nb:   {{- .Values.y }}\n",
        );
        expect(prepared).toEqual({
            text:
                "\n\nname: __kaptain_template_0__\nvalues:\n  - configs/__kaptain_template_1__/values.yaml\n" +
                "b:__kaptain_template_2__\n",
        });
    });

    it.each([
        ["{{ if .Values.on }}\na: 1\n{{ end }}\n", "it uses template control flow (`{{ if }}` at line 1)"],
        [
            "a: 1\nreleases:\n{{ toYaml .Values.releases | indent 2 }}\n",
            "stands on a line of its own and may write YAML",
        ],
        ["a: {{ .Values.x\n", "the template expression at line 1 is not closed"],
    ])("make %j unreadable: %s", (text, reason) => {
        expect(setTemplatesAside(text)).toEqual({ reason: expect.stringContaining(reason) });
    });
});

describe("through a Pulumi program, as preview and synth run it", () => {
    it("logs the warnings with pulumi.log.warn", async () => {
        const repo = writeTree(tempDir(), {
            "helmfile.yaml": releases(release("redis", "action=instal")),
        });
        const engine = await runInfrastructure({ namespace: "dev", workingDirectory: repo });
        expect(engine.warnings.filter(w => w.includes('release "redis"'))).toHaveLength(1);
    });
});
