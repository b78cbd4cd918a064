"""What a person looks at: tables in the terminal, PNG figures."""

from lstmkit.report.forecast_plot import plot_forecast
from lstmkit.report.html import Section, write_report
from lstmkit.report.tables import print_table

__all__ = ["plot_forecast", "print_table", "Section", "write_report"]
