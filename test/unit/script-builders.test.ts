import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { deployCommand, destroyArgv, HelmfileInvocation, deployArgv } from "../../sdk/script/helmfile";
import { toolsUsedByHooks } from "../../sdk/script/helpers";
import { PHASE_ORDER } from "../../sdk/phases";
import { renderDiffScript, renderPhaseScripts } from "../../sdk/script/phase-script";

const base: HelmfileInvocation = {
    binary: "helmfile",
    strategy: "sync",
    selectors: ["action=install"],
    concurrency: 4,
    extraArgs: [],
    syncArgs: [],
};

describe("helmfile argv", () => {
    it("puts global flags before the subcommand and sync flags after", () => {
        expect(
            deployArgv("install", {
                ...base,
                environment: "prod",
                file: "../../helmfile.yaml",
                kubeContext: "prod-ctx",
                extraArgs: ["--debug"],
                syncArgs: ["--wait"],
            }),
        ).toEqual([
            "helmfile",
            "--environment",
            "prod",
            "--file",
            "../../helmfile.yaml",
            "--kube-context",
            "prod-ctx",
            "--selector",
            "action=install",
            "--debug",
            "sync",
            "--concurrency",
            "4",
            "--skip-needs",
            "--wait",
        ]);
    });

    it("applies with --suppress-secrets, so the diff it prints shows no Secret values", () => {
        expect(deployArgv("install", { ...base, strategy: "apply" })).toEqual([
            "helmfile",
            "--selector",
            "action=install",
            "apply",
            "--concurrency",
            "4",
            "--skip-needs",
            "--suppress-secrets",
        ]);
    });

    it("hides helm's release notes when asked: helmfile logs them on the stderr that `logging: stderr` lets through", () => {
        expect(deployArgv("install", { ...base, strategy: "apply" }, { hideNotes: true }).slice(-2)).toEqual([
            "--suppress-secrets",
            "--hide-notes",
        ]);
    });

    it("passes no --concurrency for 0, and no --skip-needs for config", () => {
        expect(deployArgv("config", { ...base, selectors: ["action=config"], concurrency: 0 })).toEqual([
            "helmfile",
            "--selector",
            "action=config",
            "sync",
        ]);
    });

    it("deploys, in the create script, with the selectors kaptain_select_releases chose, where the selectors were", () => {
        expect(
            deployCommand("install", { ...base, environment: "prod", binary: "my helmfile", extraArgs: ["--debug"] }),
        ).toBe(`'my helmfile' --environment prod "\${KAPTAIN_SELECTORS[@]}" --debug sync --concurrency 4 --skip-needs`);
    });

    it("destroys with the phase's selectors", () => {
        expect(destroyArgv({ ...base, selectors: ["action=provision", "tier=data"] })).toEqual([
            "helmfile",
            "--selector",
            "action=provision",
            "--selector",
            "tier=data",
            "destroy",
        ]);
    });
});

describe("generated scripts", () => {
    const spec = {
        phase: "install" as const,
        namespace: "dev",
        namespaceFromWorking: "./namespaces/dev",
        hooksFile: "./hooks.sh",
        helmfile: { ...base, binary: "/opt/my tools/helmfile", strategy: "apply" as const },
        hookTools: ["rclone"],
        logging: "stderr" as const,
    };

    /** The readable parts of a script: its plan (the header) and its steps (the end). */
    function readable(script: string): string {
        const header = script.slice(0, script.indexOf("set -eo pipefail"));
        const steps = script.slice(script.indexOf("\n# --- "));
        return `${header}[helpers.sh]${steps}`;
    }

    const combinations = PHASE_ORDER.flatMap(phase =>
        (["create", "delete", "diff"] as const).flatMap(operation =>
            [true, false].map(hooks => ({ phase, operation, hooks })),
        ),
    );

    it.each(combinations)("$phase $operation, hooks $hooks: pass shellcheck and read as the snapshot", c => {
        const combination = {
            ...spec,
            phase: c.phase,
            hooksFile: c.hooks ? "./hooks.sh" : undefined,
            hookTools: c.hooks ? ["rclone", "tar", "gzip"] : [],
            helmfile: { ...spec.helmfile, selectors: [`action=${c.phase}`] },
        };
        const scripts = renderPhaseScripts(combination);
        const script = c.operation === "diff" ? renderDiffScript(combination) : scripts[c.operation];
        const out = spawnSync("shellcheck", ["-s", "bash", "-e", "SC1091", "-"], { input: script, encoding: "utf8" });
        expect(out.stdout).toBe("");
        expect(out.status).toBe(0);
        expect(readable(script)).toMatchSnapshot();
        if (c.operation === "create") {
            expect(scripts.update).toBe(script);
        }
    });

    it("check for the hook helpers' tools where make-config runs, not in the delete, which runs none", () => {
        const scripts = renderPhaseScripts({ ...spec, hookTools: ["rclone", "tar", "gzip"] });
        for (const tool of ["rclone", "tar", "gzip"]) {
            expect(scripts.create).toContain(`\nkaptain_require ${tool} ${tool}\n`);
            expect(renderDiffScript({ ...spec, hookTools: ["rclone", "tar", "gzip"] })).toContain(
                `\nkaptain_require ${tool} ${tool}\n`,
            );
            expect(scripts.delete).not.toContain(`kaptain_require ${tool}`);
        }
        expect(scripts.delete).toContain("\nkaptain_require helmfile ");
    });

    it("point the plan at the line where the steps start", () => {
        const script = renderPhaseScripts(spec).create;
        const line = Number(/from line (\d+)\./.exec(script)![1]);
        expect(script.split("\n")[line - 1]).toBe("kaptain_init install dev ./namespaces/dev");
    });

    it("keep a control character in an argument inside the plan's comment", () => {
        const script = renderPhaseScripts({ ...spec, helmfile: { ...spec.helmfile, environment: "dev\nid #" } }).create;
        expect(script).toContain("--environment 'dev\\x0aid #'");
        // Every line of the header is still a comment.
        const header = script.slice(0, script.indexOf("set -eo pipefail")).trimEnd().split("\n");
        expect(header.filter(l => !l.startsWith("#"))).toEqual([]);
    });

    it("quote a binary path with spaces", () => {
        expect(renderPhaseScripts(spec).create).toContain(
            `\n'/opt/my tools/helmfile' "\${KAPTAIN_SELECTORS[@]}" apply`,
        );
        expect(renderPhaseScripts(spec).delete).toContain(
            "\n'/opt/my tools/helmfile' --selector action=install destroy",
        );
    });

    it("detect the tools a hooks file needs", () => {
        expect(toolsUsedByHooks("embed_config app\nrclone_config tiles\n")).toEqual(["rclone", "tar", "gzip"]);
        expect(toolsUsedByHooks("export REV=$(git describe)\n")).toEqual(["git"]);
        expect(toolsUsedByHooks("embed_config app\n")).toEqual([]);
    });
});
