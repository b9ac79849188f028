/**
 * Every default of pulumi-kaptain, in one place. The resolvers apply them once; the
 * TSDoc `@default` tags and the README's configuration table say the same, and a test
 * checks the README against this object.
 */
export const DEFAULTS = {
    /** The Helmfile repository, relative to the program's directory. */
    workingDirectory: ".",
    helmfile: { binary: "helmfile", strategy: "apply", concurrency: 4, extraArgs: [] as readonly string[] },
    phases: { config: true, install: true, provision: false },
    environment: {},
    fingerprintExclude: [] as readonly string[],
    createNamespace: false,
    deleteNamespace: false,
    protect: false,
    logging: "stderr",
    liveDiff: false,
    provisionConfigs: { secretKey: "secret", allowChartRelease: false, helmBinary: "helm" },
    /** Above this many groups of input files, folders are grouped one level deep instead of two. */
    fingerprintMaxGroups: 400,
} as const;
