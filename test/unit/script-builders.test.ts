import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { destroyArgv, HelmfileInvocation, syncArgv } from "../../sdk/script/helmfile";
import { toolsUsedByHooks } from "../../sdk/script/helpers";
import { renderPhaseScripts } from "../../sdk/script/phase-script";
import { shJoin, shQuote } from "../../sdk/script/quote";

const base: HelmfileInvocation = {
    binary: "helmfile",
    selectors: ["action=install"],
    concurrency: 4,
    extraArgs: [],
    syncArgs: [],
};

describe("helmfile argv", () => {
    it("puts global flags before the subcommand and sync flags after", () => {
        expect(
            syncArgv("install", {
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

    it("passes no --concurrency for 0, and no --skip-needs for config", () => {
        expect(syncArgv("config", { ...base, selectors: ["action=config"], concurrency: 0 })).toEqual([
            "helmfile",
            "--selector",
            "action=config",
            "sync",
        ]);
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

describe("quoting", () => {
    it.each(["plain", "with space", "$(touch pwned)", "it's", "`id`", "a\nb", "*", ""])(
        "round-trips %j through sh",
        word => {
            const out = spawnSync("sh", ["-c", `printf '%s' ${shQuote(word)}`], { encoding: "utf8" });
            expect(out.stdout).toBe(word);
        },
    );

    it("leaves safe words bare so scripts stay readable", () => {
        expect(shJoin(["helmfile", "--selector", "action=install", "../../helmfile.yaml"])).toBe(
            "helmfile --selector action=install ../../helmfile.yaml",
        );
    });
});

describe("generated scripts", () => {
    const spec = {
        phase: "install" as const,
        namespace: "dev",
        workingFromNamespace: "../..",
        hooksFile: "./hooks.sh",
        helmfile: { ...base, binary: "/opt/my tools/helmfile" },
        hookTools: ["rclone"],
        logging: "stderr" as const,
    };

    it("pass shellcheck", () => {
        const scripts = renderPhaseScripts(spec);
        for (const script of [scripts.create, scripts.delete]) {
            const out = spawnSync("shellcheck", ["-s", "bash", "-e", "SC1091", "-"], {
                input: script,
                encoding: "utf8",
            });
            expect(out.stdout).toBe("");
            expect(out.status).toBe(0);
        }
    });

    it("quote a binary path with spaces", () => {
        expect(renderPhaseScripts(spec).create).toContain("\n'/opt/my tools/helmfile' --selector action=install sync");
    });

    it("leave hooks out when there are none", () => {
        const body = renderPhaseScripts({ ...spec, hooksFile: undefined }).create.split("# --- install")[1];
        expect(body).toContain("kaptain_init install dev ../..");
        expect(body).not.toContain("source ");
        expect(body).not.toContain("hook'");
    });

    it("detect the tools a hooks file needs", () => {
        expect(toolsUsedByHooks("embed_config app\nrclone_config tiles\n")).toEqual(["rclone", "tar", "gzip"]);
        expect(toolsUsedByHooks("export REV=$(git describe)\n")).toEqual(["git"]);
        expect(toolsUsedByHooks("embed_config app\n")).toEqual([]);
    });
});
