export { Clock, realClock } from './clock';
export { DeadlineOptions, Deadlines, MAX_SLEEP_MS, Timed } from './deadlines';
