import * as path from "node:path";

/** Where the global setup unpacks the Helm 3 binary that the parity tests render with. */
export const HELM_BINARY = path.resolve(__dirname, "../../.cache/helm/helm/helm");
