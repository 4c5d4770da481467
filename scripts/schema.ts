/** `npm run -s schema`: prints the JSON Schema of every `apfa:*` stack-config key (from src/config/ and the targets' settings.ts). */
import { configJsonSchema } from "../src/config";

console.log(JSON.stringify(configJsonSchema(), null, 2));
