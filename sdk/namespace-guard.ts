import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { helpersSource } from "./script/helpers";
import { releasesArgv } from "./script/helmfile";
import { INTERPRETER, SCRIPT_VARIABLES, scriptLauncher } from "./script/phase-script";
import { shJoin } from "./script/quote";

/** The guard's name is `<component>-namespace-guard`. */
export const NAMESPACE_GUARD = "namespace-guard";

/** What an Infrastructure's namespace guard is built from. */
export interface NamespaceGuardArgs {
    readonly namespace: string;
    /** The namespace directory relative to the working directory, as the phases get it. */
    readonly namespaceFromWorking: string;
    /** The working directory relative to the command provider's: the phases' `dir`. */
    readonly commandDirectory: pulumi.Input<string>;
    readonly kubeContext?: pulumi.Input<string>;
    /** The phases' `KAPTAIN_KUBECONFIG` and `stdin`: helm lists the releases with them. */
    readonly kubeconfigVariable: pulumi.Input<string>;
    readonly stdin?: pulumi.Input<string>;
}

/**
 * The namespace guard: a Command that runs before anything else of an Infrastructure
 * with phases, and remembers the namespace they deploy into.
 *
 * A namespace change is an update of every phase (never a replace, which would run
 * `helmfile destroy`): each deploys into the new namespace, and its delete script in the
 * state is overwritten with the new one, so the releases in the old namespace stay
 * deployed with nothing left to remove them. The program cannot see the change (it does
 * not read the state). The guard can: its stdout is one line with the namespace, which
 * the command provider hands to its next run (`addPreviousOutputInEnv`), and a
 * different namespace fails it before the phases and the objects run. (The phases cannot
 * do this themselves: the provider hands back stderr too, and helmfile's output there can
 * be larger than an environment variable may be.) It has no delete: removing it changes
 * nothing in the cluster.
 */
export function createNamespaceGuard(
    name: string,
    args: NamespaceGuardArgs,
    opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource },
): command.local.Command {
    const script = pulumi
        .output(args.kubeContext)
        .apply(kubeContext => renderNamespaceGuardScript(args.namespace, args.namespaceFromWorking, kubeContext));
    return new command.local.Command(
        `${name}-${NAMESPACE_GUARD}`,
        {
            create: scriptLauncher("create", NAMESPACE_GUARD),
            dir: args.commandDirectory,
            interpreter: [...INTERPRETER],
            environment: { KAPTAIN_KUBECONFIG: args.kubeconfigVariable, [SCRIPT_VARIABLES.create]: script },
            ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
            // stdout is the namespace, for the next run, not for the log.
            logging: "stderr",
            addPreviousOutputInEnv: true,
        },
        { ...opts, additionalSecretOutputs: ["stdin"] },
    );
}

/** The guard's script: the helpers, and the check of `kaptain_namespace_guard`. */
export function renderNamespaceGuardScript(
    namespace: string,
    namespaceFromWorking: string,
    kubeContext: string | undefined,
): string {
    return [
        `# pulumi-kaptain: the namespace guard of namespace ${namespace}. Stops the deploy, before anything`,
        "# runs, when the phases deployed into another namespace: they would leave its releases behind.",
        "set -eo pipefail",
        "",
        helpersSource().trimEnd(),
        "",
        "# --- the check ---------------------------------------------------------",
        `kaptain_init ${shJoin([NAMESPACE_GUARD, namespace, namespaceFromWorking])}`,
        "kaptain_kubeconfig",
        `kaptain_namespace_guard ${shJoin(releasesArgv({ kubeContext }))}`,
        "kaptain_finish",
        "",
    ].join("\n");
}
