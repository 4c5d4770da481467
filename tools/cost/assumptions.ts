/**
 * The estimator's usage assumptions: the program's `apfa:cost.assumptions` (src/config/budget.ts,
 * where each is documented with its default), under the estimator's names.
 */
import type { z } from "zod";

import { costAssumptionsSchema } from "../../src/config/budget";

export const estimatorAssumptionsSchema = costAssumptionsSchema;

export type EstimatorAssumptions = z.output<typeof estimatorAssumptionsSchema>;

export const DEFAULT_ESTIMATOR_ASSUMPTIONS: EstimatorAssumptions = estimatorAssumptionsSchema.parse({});
