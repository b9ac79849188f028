import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { FingerprintGroup } from "./fingerprint";
import { InfrastructureArgs } from "./infrastructure-args";
import { buildInfrastructure, PhaseCommands } from "./infrastructure-build";
import { resolveInfrastructure } from "./infrastructure-resolve";
import { Phase } from "./phase";
import { ProvisionConfigs } from "./provision-configs";

/**
 * A kaptain Helmfile repository deployed for one namespace: the config, install and
 * provision phases as `command:local:Command` resources, run in that order, after
 * everything the component depends on.
 */
export class Infrastructure extends pulumi.ComponentResource {
    /** The namespace deployed into. */
    public readonly namespace: pulumi.Output<string>;
    /** The enabled phases by name; a disabled phase is undefined. */
    public readonly phases: PhaseCommands;
    /**
     * The change-detection fingerprint: the groups of input files and how many files each
     * holds. Every `digest` reads `[secret]`: a digest would let anyone who reads the state
     * test guesses of a file's content (the phases carry the digests as secrets).
     */
    public readonly fingerprint: pulumi.Output<FingerprintGroup[]>;
    /** The native provision-configs objects, when enabled. */
    public readonly provisionConfigs?: ProvisionConfigs;
    /** The Namespace, when `createNamespace` is set. */
    public readonly namespaceObject?: k8s.core.v1.Namespace;
    /** The Kubernetes provider built from `kubeconfig` / `helmfile.kubeContext`, when one was. */
    public readonly kubernetesProvider?: k8s.Provider;
    /**
     * kaptain's diff action of each enabled phase, as a bash script to run in the phase's
     * directory with its environment: changes nothing, prints helmfile's diff
     * (`kaptain synth --live` runs them).
     */
    public readonly diffScripts: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: InfrastructureArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("kaptain:index:Infrastructure", name, {}, opts);
        const programDirectory = process.cwd();
        const resolved = resolveInfrastructure(args, programDirectory);
        for (const warning of resolved.warnings) {
            void pulumi.log.warn(warning, this);
        }
        for (const note of resolved.notes) {
            void pulumi.log.info(note, this);
        }
        const built = buildInfrastructure(name, this, args, resolved, programDirectory, opts);

        this.namespace = pulumi.output(resolved.layout.namespace);
        this.phases = built.phases;
        this.fingerprint = pulumi.output(built.fingerprint.map(g => ({ ...g, digest: "[secret]" })));
        this.provisionConfigs = built.provisionConfigs;
        this.namespaceObject = built.namespaceObject;
        this.kubernetesProvider = built.kubernetesProvider;
        this.diffScripts = pulumi
            .all(Object.values(built.phases).map((p: Phase) => pulumi.all([p.name, p.diffScript])))
            .apply(entries => Object.fromEntries(entries) as Record<string, string>);
        this.registerOutputs({
            diffScripts: this.diffScripts,
            namespace: this.namespace,
            phases: this.phases,
            fingerprint: this.fingerprint,
            provisionConfigs: this.provisionConfigs,
            namespaceObject: this.namespaceObject,
        });
    }
}
