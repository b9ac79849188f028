// The Pulumi program of the example: one Infrastructure, configured by the stack.
//   pulumi up --stack dev     deploys namespaces/dev
//   pulumi up --stack prod    deploys namespaces/prod
// In your own project, import from "pulumi-kaptain" instead of the SDK's source.
import { Infrastructure, infrastructureArgsFromConfig } from "../../sdk";

const infra = new Infrastructure("geo", infrastructureArgsFromConfig());

export const namespace = infra.namespace;
export const phases = Object.keys(infra.phases);
export const inputs = infra.fingerprint.apply(groups => groups.length);
