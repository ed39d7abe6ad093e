// The Compose model's public face: load files into a ComposeProject, locate paths for messages.
export { findDefaultComposeFiles } from "./default-files.js";
export { ComposeError, type ComposeErrorDetails } from "./errors.js";
export { type LoadComposeOptions, type LoadedCompose, loadCompose } from "./load.js";
export { locate, type Position } from "./locate.js";
export { formatPath, type PathSegment, type YamlPath } from "./path.js";
