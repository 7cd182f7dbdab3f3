"""Calibration from a work-order export (docs/calibration.md).

The way back from data to a scenario, beside the way forward from a scenario to results:

    layout    the documented work-order layout (columns, statuses) and `ExportError`
    export    a simulated run as a work-order export (CSV tables, OCEL 2.0 JSON)
    read      a CSV export (with a column mapping), a Salesforce export or an OCEL 2.0 log,
              checked row by row, as the layout's tables
    estimate  the observable parameters, each with its confidence interval
    infer     the behaviour parameters no export shows, inferred through the model
    fit       the calibrated scenario simulated and compared with the data
"""
