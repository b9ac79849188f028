// The children of an Infrastructure, in deploy order: the builder behind the component.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { commandDirectory } from "./command-directory";
import { FingerprintGroup, fingerprintEntries, releaseEntries } from "./fingerprint";
import { InfrastructureArgs } from "./infrastructure-args";
import { ResolvedInfrastructure } from "./infrastructure-resolve";
import { clusterProvider, describeClusterTarget, kubeconfigForScript, readKubeconfig } from "./kubeconfig";
import { RepositoryLayout } from "./layout";
import { ComponentLiveDiff } from "./live-diff-phase";
import { createNamespaceGuard } from "./namespace-guard";
import { createPhaseCommand, Phase } from "./phase";
import { PhaseName } from "./phases";
import { namespaceResource, ProvisionConfigs } from "./provision-configs";
import { releasesOfPhase } from "./release-inputs";

/** What every phase Command of an Infrastructure receives besides its scripts. */
export interface PhaseInputs {
    /** The input fingerprint (one variable per group, secret files' digests as secrets), the kubeconfig's variable, the user's variables. */
    readonly environment: Record<string, pulumi.Input<string>>;
    /** The kubeconfig's content, a secret, when it is content; empty for a path; none without a kubeconfig. */
    readonly stdin?: pulumi.Input<string>;
}

/**
 * The Command environment and standard input shared by every phase: the input fingerprint
 * (one variable per group, each a secret: a digest of a file must not let a reader of the
 * state test guesses of what it holds), the user's variables, and the kubeconfig, a secret
 * in both: its path in `KAPTAIN_KUBECONFIG`, or its content on standard input (no size
 * limit there) with `KAPTAIN_KUBECONFIG=-`.
 */
export function phaseEnvironment(
    layout: RepositoryLayout,
    fingerprint: readonly FingerprintGroup[],
    programDirectory: string,
    args: Pick<InfrastructureArgs, "kubeconfig" | "environment">,
): PhaseInputs {
    const environment: Record<string, pulumi.Input<string>> = { ...(args.environment ?? {}) };
    for (const [key, value] of fingerprintEntries(fingerprint)) {
        environment[key] = pulumi.secret(value);
    }
    if (args.kubeconfig === undefined) {
        // Set, empty, so that one left in the shell running `pulumi up` is not read.
        environment.KAPTAIN_KUBECONFIG = "";
        return { environment };
    }
    const kubeconfig = pulumi
        .output(args.kubeconfig)
        .apply(k => kubeconfigForScript(k, programDirectory, layout.namespaceDirectory));
    environment.KAPTAIN_KUBECONFIG = pulumi.secret(kubeconfig.variable);
    return { environment, stdin: pulumi.secret(kubeconfig.stdin) };
}

/** The phases of an Infrastructure, each undefined when it is disabled. */
export interface PhaseCommands {
    /** The config phase: releases labelled `action: config`. */
    readonly config?: Phase;
    /** The install phase: releases labelled `action: install`. */
    readonly install?: Phase;
    /** The provision phase: releases labelled `action: provision`. */
    readonly provision?: Phase;
}

/** What {@link buildInfrastructure} created. */
export interface BuiltInfrastructure {
    readonly phases: PhaseCommands;
    readonly fingerprint: FingerprintGroup[];
    readonly provisionConfigs?: ProvisionConfigs;
    readonly namespaceObject?: k8s.core.v1.Namespace;
    readonly kubernetesProvider?: k8s.Provider;
}

/**
 * Creates the children of an Infrastructure, in deploy order: the namespace guard (when
 * there are phases), the Namespace (when created here), the config phase (whose helmfile creates the namespace otherwise),
 * the provision-configs objects, then install and provision. Each step depends on the
 * one before and on the component's `dependsOn`; deletes run in reverse.
 */
export function buildInfrastructure(
    name: string,
    parent: pulumi.Resource,
    args: InfrastructureArgs,
    resolved: ResolvedInfrastructure,
    programDirectory: string,
    opts: pulumi.ComponentResourceOptions,
): BuiltInfrastructure {
    const { layout } = resolved;
    // One cluster: the native objects use the kubeconfig and context the scripts get.
    // Only when a native object needs one: the provider writes its kubeconfig, client
    // key included, to a temporary file each time it is configured.
    const needsKubernetes = resolved.createNamespace || resolved.provisionConfigs !== undefined;
    const kubernetesProvider = needsKubernetes
        ? clusterProvider(
              name,
              parent,
              { kubeconfig: args.kubeconfig, context: resolved.helmfile.kubeContext },
              programDirectory,
          )
        : undefined;
    const k8sOptions = kubernetesProvider !== undefined ? { provider: kubernetesProvider } : {};

    const { fingerprint } = resolved;
    const { environment, stdin } = phaseEnvironment(layout, fingerprint, programDirectory, args);
    // The Commands run from the working directory, and the scripts move to the namespace
    // folder: a delete whose folder is gone can then still say what it leaves behind (a
    // `dir` that is gone fails in the provider's chdir, before any script runs).
    const directory = resolved.phases.length > 0 ? commandDirectory(layout.workingDirectory, parent) : undefined;

    // First of all, where there are phases: a namespace change stops here, before anything
    // of the new namespace is created, instead of orphaning the old one's releases.
    const namespaceGuard =
        directory !== undefined
            ? createNamespaceGuard(
                  name,
                  {
                      namespace: layout.namespace,
                      namespaceFromWorking: layout.namespaceFromWorking,
                      commandDirectory: directory,
                      kubeContext: resolved.helmfile.kubeContext,
                      kubeconfigVariable: environment.KAPTAIN_KUBECONFIG,
                      stdin,
                  },
                  { parent, dependsOn: opts.dependsOn, ...(resolved.protect ? { protect: true } : {}) },
              )
            : undefined;
    let previous: pulumi.Resource | undefined = namespaceGuard;
    const namespaceObject = resolved.createNamespace
        ? namespaceResource(`${name}-namespace`, layout.namespace, resolved.deleteNamespace, {
              parent,
              dependsOn: withDependency(opts.dependsOn, previous),
              ...k8sOptions,
              // pulumi-kaptain 0.1.0 created it as a child of the ProvisionConfigs: the same
              // Namespace, which must not be deleted and re-created on upgrade.
              aliases: [
                  {
                      name: `${name}-provision-configs-namespace`,
                      parent: pulumi.createUrn(`${name}-provision-configs`, "kaptain:index:ProvisionConfigs", parent),
                  },
              ],
          })
        : undefined;
    previous = namespaceObject ?? previous;

    let provisionConfigs: ProvisionConfigs | undefined;
    const addProvisionConfigs = () => {
        if (resolved.provisionConfigs === undefined) {
            return;
        }
        provisionConfigs = new ProvisionConfigs(`${name}-provision-configs`, resolved.provisionConfigs, {
            parent,
            dependsOn: withDependency(opts.dependsOn, previous),
            ...(kubernetesProvider !== undefined ? { providers: [kubernetesProvider] } : {}),
        });
        previous = provisionConfigs;
    };

    // What a live diff that cannot reach the cluster names: the context, and its server.
    const clusterTarget = resolved.liveDiff
        ? pulumi
              .all([args.kubeconfig, resolved.helmfile.kubeContext])
              .apply(([kubeconfig, context]) =>
                  describeClusterTarget(
                      kubeconfig === undefined ? undefined : readKubeconfigOrUndefined(kubeconfig, programDirectory),
                      context,
                  ),
              )
        : undefined;
    const live = new ComponentLiveDiff();
    const combined = resolved.liveDiff ? combinedLiveDiff(resolved) : undefined;
    const phases: { [P in PhaseName]?: Phase } = {};
    if (!resolved.phases.some(p => p.name === "config")) {
        addProvisionConfigs();
    }
    for (const phase of resolved.phases) {
        // The release groups of the releases this phase selects (every release's when a
        // selector cannot be read here): an edit of fleet-3's values file re-runs only the
        // phases that deploy fleet-3.
        const inputs = resolved.releaseInputs;
        const selected = inputs !== undefined ? releasesOfPhase(inputs.releases, phase.selectors) : undefined;
        const releaseNames = new Set(selected ?? inputs?.releases.map(r => r.name) ?? []);
        const releaseEnvironment = Object.fromEntries(
            [...releaseEntries(fingerprint, releaseNames)].map(([k, v]) => [k, pulumi.secret(v)]),
        );
        const created = createPhaseCommand(
            name,
            {
                phase: phase.name,
                namespace: layout.namespace,
                commandDirectory: directory!,
                namespaceFromWorking: layout.namespaceFromWorking,
                hooksFile: layout.hooksFile,
                hookTools: resolved.hookTools,
                environment: { ...environment, ...releaseEnvironment },
                stdin,
                logging: resolved.logging,
                ...(clusterTarget !== undefined
                    ? {
                          liveDiff: {
                              name,
                              cluster: clusterTarget,
                              component: live,
                              ...(combined !== undefined
                                  ? {
                                        combined: {
                                            selectors: combined.selectors,
                                            releases: combined.releases[phase.name]!,
                                        },
                                    }
                                  : {}),
                          },
                      }
                    : {}),
                helmfile: {
                    ...resolved.helmfile,
                    file: layout.helmfileFile,
                    selectors: phase.selectors,
                    strategy: phase.strategy,
                    concurrency: phase.concurrency,
                    syncArgs: phase.syncArgs,
                },
            },
            {
                parent,
                dependsOn: withDependency(opts.dependsOn, previous),
                ...(resolved.protect ? { protect: true } : {}),
            },
        );
        phases[phase.name] = created;
        previous = created.command;
        if (phase.name === "config") {
            addProvisionConfigs();
        }
    }
    return { phases, fingerprint, provisionConfigs, namespaceObject, kubernetesProvider };
}

/**
 * Children do not inherit their component's `dependsOn`: pass it on, plus the previous
 * step of the chain.
 */
export function withDependency(
    dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
    extra: pulumi.Resource | undefined,
): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
    const extras = extra === undefined ? [] : [extra];
    if (dependsOn === undefined) {
        return extras;
    }
    return pulumi
        .output(dependsOn as pulumi.Input<pulumi.Input<pulumi.Resource>[] | pulumi.Resource>)
        .apply(d => [...(Array.isArray(d) ? d : [d]), ...extras]) as pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
}

/** The kubeconfig's content for a message, or undefined when it cannot be read here (the phase says why). */
function readKubeconfigOrUndefined(kubeconfig: string, programDirectory: string): string | undefined {
    try {
        return readKubeconfig(kubeconfig, programDirectory);
    } catch {
        return undefined;
    }
}

/**
 * With `liveDiff`, one diff for the whole component, as kaptain's `diff` does: the union of
 * the phases' selectors, each phase taking its own releases' changes. Only when it is known
 * which releases each phase selects (the helmfile rendered); else each phase diffs its own.
 */
function combinedLiveDiff(
    resolved: ResolvedInfrastructure,
): { selectors: string[]; releases: { [P in PhaseName]?: ReadonlySet<string> } } | undefined {
    const inputs = resolved.releaseInputs;
    if (inputs === undefined || resolved.phases.length < 2) {
        return undefined;
    }
    const releases: { [P in PhaseName]?: ReadonlySet<string> } = {};
    for (const phase of resolved.phases) {
        const picked = releasesOfPhase(inputs.releases, phase.selectors);
        if (picked === undefined) {
            return undefined;
        }
        releases[phase.name] = new Set(picked);
    }
    // A phase without selectors takes every release: so does the union.
    const selectors = resolved.phases.some(p => p.selectors.length === 0)
        ? []
        : [...new Set(resolved.phases.flatMap(p => p.selectors))];
    return { selectors, releases };
}
