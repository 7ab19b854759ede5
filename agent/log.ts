/**
 * The agent logs with Berth's one logger (common/logger.ts): JSON lines with `component: agent`
 * and the node's name, so the lines of npm start's local agent and of its control plane read alike.
 */
export {
  createLogger,
  errorMessage,
  type LogFields,
  type Logger,
  type LogLevel,
  withFields,
} from '../common/logger.ts';
