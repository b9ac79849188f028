// kaptain's verbs as Pulumi operations: the phases a run registers, the resources it may
// touch, the state it reads, its questions and exit statuses. (The runs themselves are
// engine scenarios: test/e2e/engine/verbs.test.ts.)
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import {
    deployedPhases,
    describeRemoval,
    matchesTarget,
    runPhases,
    StateResource,
    VerbError,
    verbTargets,
} from "../../sdk/verbs/plan";
import { ask, pulumiExitCode } from "../../sdk/verbs/run";
import { errorOf } from "../support/fixture";

const URN = "urn:pulumi:dev::infra::";
const INFRA = `${URN}kaptain:index:Infrastructure::geo`;
const phase = (name: string, parent = "kaptain:index:Infrastructure") =>
    `${URN}${parent}$command:local:Command::geo-${name}`;

function state(...phases: string[]): StateResource[] {
    return [
        { urn: `${URN}pulumi:pulumi:Stack::infra-dev`, type: "pulumi:pulumi:Stack" },
        { urn: INFRA, type: "kaptain:index:Infrastructure" },
        ...phases.map(p => ({ urn: phase(p), type: "command:local:Command", parent: INFRA })),
    ];
}

describe("the phases a verb's run registers", () => {
    it("reads the deployed phases from the state: Command children of an Infrastructure named after it", () => {
        expect([...deployedPhases(state("config", "install"))].sort()).toEqual(["config", "install"]);
        // A Command of the user's own, named like a phase, is not one.
        const own = { urn: `${URN}command:local:Command::geo-provision`, type: "command:local:Command" };
        expect([...deployedPhases([...state("config"), own])]).toEqual(["config"]);
    });

    it("install deploys config and install as the stack file sets them, and leaves provision off on a fresh stack", () => {
        expect(runPhases("install", { install: { strategy: "sync" } }, new Set(), "dev")).toEqual({
            config: true,
            install: { strategy: "sync" },
            provision: false,
        });
    });

    it("config leaves the deployed install and provision phases on, and deploys nothing else", () => {
        const file = { provision: true };
        expect(runPhases("config", file, new Set(["config", "install", "provision"]), "dev")).toEqual({
            config: true,
            install: true,
            provision: true,
        });
        expect(runPhases("config", file, new Set(), "dev")).toEqual({ config: true, install: false, provision: false });
    });

    it("uninstall turns install off for its run only, and keeps a deployed provision phase", () => {
        expect(runPhases("uninstall", { provision: true }, new Set(["config", "install", "provision"]), "dev")).toEqual(
            {
                config: true,
                install: false,
                provision: true,
            },
        );
    });

    it("a deployed phase the stack file has since turned off stays until `kaptain up` removes it", () => {
        expect(runPhases("config", { install: false }, new Set(["config", "install"]), "dev")).toMatchObject({
            install: true,
        });
    });

    it("refuses to deploy a phase the stack file leaves off: the next `kaptain up` would remove it again", () => {
        const err = errorOf(() => runPhases("provision", undefined, new Set(["config"]), "dev"));
        expect(err).toBeInstanceOf(VerbError);
        expect(err.message).toBe(
            "kaptain provision dev: Pulumi.dev.yaml leaves the provision phase off (kaptain:phases.provision is not true). " +
                "Deployed now, the next `kaptain up dev` would remove it again: set kaptain:phases.provision to true first " +
                "(pulumi config set --path kaptain:phases.provision true --stack dev)",
        );
    });

    it("up, diff and destroy run the stack as its file says", () => {
        for (const verb of ["up", "diff", "destroy"] as const) {
            expect(runPhases(verb, { install: false }, new Set(["install"]), "dev"), verb).toBeUndefined();
            expect(verbTargets(verb, "dev", "infra", new Set()), verb).toBeUndefined();
        }
    });
});

describe("the resources a verb's run may touch", () => {
    const NAMESPACE = `${URN}kaptain:index:Infrastructure$kubernetes:core/v1:Namespace::geo-namespace`;
    const PROVISION_CONFIGS = `${URN}kaptain:index:Infrastructure$kaptain:index:ProvisionConfigs::geo-provision-configs`;
    const SECRET = `${URN}kaptain:index:Infrastructure$kaptain:index:ProvisionConfigs$kubernetes:core/v1:Secret::geo-provision-configs-namespace-secret`;
    const GUARD = `${URN}kaptain:index:Infrastructure$command:local:Command::geo-namespace-guard`;
    const touched = (targets: string[] | undefined, urns: string[]) =>
        urns.filter(urn => targets!.some(t => matchesTarget(t, urn)));
    const everything = [
        INFRA,
        GUARD,
        NAMESPACE,
        PROVISION_CONFIGS,
        SECRET,
        phase("config"),
        phase("install"),
        phase("provision"),
    ];

    it("config: the component, its namespace guard, the Namespace, the provision-configs objects and the config phase", () => {
        expect(touched(verbTargets("config", "dev", "infra", new Set()), everything)).toEqual([
            INFRA,
            GUARD,
            NAMESPACE,
            PROVISION_CONFIGS,
            SECRET,
            phase("config"),
        ]);
    });

    it("install adds the install phase; provision the provision phase, not install", () => {
        expect(touched(verbTargets("install", "dev", "infra", new Set()), everything)).toContain(phase("install"));
        const provision = touched(verbTargets("provision", "dev", "infra", new Set()), everything);
        expect(provision).toContain(phase("provision"));
        expect(provision).not.toContain(phase("install"));
    });

    it("uninstall: the install phase, and a deployed provision phase that no longer depends on it; no object", () => {
        expect(touched(verbTargets("uninstall", "dev", "infra", new Set(["config", "install"])), everything)).toEqual([
            INFRA,
            GUARD,
            phase("install"),
        ]);
        expect(
            touched(verbTargets("uninstall", "dev", "infra", new Set(["config", "install", "provision"])), everything),
        ).toEqual([INFRA, GUARD, phase("install"), phase("provision")]);
    });

    it("finds the phases of an Infrastructure inside a component of the user's, and only an Infrastructure's", () => {
        const targets = verbTargets("config", "dev", "infra", new Set())!;
        const nested = phase("config", "acme:index:Platform$kaptain:index:Infrastructure");
        expect(touched(targets, [nested])).toEqual([nested]);
        const own = `${URN}command:local:Command::geo-config`;
        const otherStack = phase("config").replace("dev::", "prod::");
        expect(touched(targets, [own, otherStack])).toEqual([]);
    });
});

describe("what a verb says and returns", () => {
    it("says what removing a phase does", () => {
        expect(describeRemoval(phase("install"), "command:local:Command", "delete")).toBe(
            "- geo-install (command:local:Command, delete): its delete runs helmfile destroy of the releases labelled action=install",
        );
        expect(describeRemoval(SECRET_URN, "kubernetes:core/v1:Secret", "replace")).toBe(
            "± geo-provision-configs-namespace-secret (kubernetes:core/v1:Secret, replace): deleted from the cluster",
        );
    });

    it("returns the Pulumi CLI's exit status, which the Automation API wraps in a second error", () => {
        const wrapped = { commandResult: { code: -2, err: { commandResult: { code: 4 } } } };
        expect(pulumiExitCode(wrapped)).toBe(4);
        expect(pulumiExitCode({ commandResult: { code: 255 } })).toBe(255);
        // The CLI did not run (no status): a failure.
        expect(pulumiExitCode({ commandResult: { code: -2, err: {} } })).toBe(1);
        expect(pulumiExitCode(new Error("not the CLI's"))).toBeUndefined();
    });

    it("reads one answer, and takes an input that ends first as no answer", async () => {
        const answered = new PassThrough();
        const question = ask("Remove them? ", { stdin: answered, stderr: new PassThrough() });
        answered.end("y\n");
        expect(await question).toBe("y");
        const closed = new PassThrough();
        const none = ask("Remove them? ", { stdin: closed, stderr: new PassThrough() });
        closed.end();
        expect(await none).toBe("");
    });
});

const SECRET_URN = `${URN}kaptain:index:Infrastructure$kaptain:index:ProvisionConfigs$kubernetes:core/v1:Secret::geo-provision-configs-namespace-secret`;
