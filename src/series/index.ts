export { compileSeries, checkSeriesExpr, seriesNames, SeriesEval, SeriesExpr, SeriesNeed, SeriesOptions, SeriesResult } from './expr';
export { SERIES_FUNCTION_NAMES, ValueType } from './plan';
export { formatValue, show } from './render';
export { HoltWinters, HoltWintersOptions, HwOutput } from './holt-winters';
export { Window } from './window';
