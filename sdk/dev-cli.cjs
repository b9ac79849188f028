// `npm run synth`: the kaptain CLI from its TypeScript source, without a build.
// The Pulumi SDKs load first, with plain Node: loaded after tsx's require hook is in
// place they take twice as long, and that start-up is most of a synth's cost.
require("@pulumi/pulumi");
require("@pulumi/kubernetes/core/v1");
require("@pulumi/command");
require("tsx/cjs/api").register();
require("./cli.ts");
