"""The seed article's hands-on example: predict the next value of 1, 2, ..., 9.

The series is cut into windows of 3 steps (``[1, 2, 3] -> 4``, ...), an LSTM of 50
units with a linear head is trained with Adam on the mean squared error for 200
epochs, and the model predicts what follows ``[7, 8, 9]``. Values are divided by the
largest training value first: tanh units saturate on raw values like 9, and the
network then cannot reach past what it saw (unscaled, it answers about 9.3). Run it with
``python examples/seed_next_value.py``; it prints ``Predicted next value: X`` with X
close to 10.
"""

from __future__ import annotations

import torch
from torch import nn

import lstmkit.nn


class NextValue(nn.Module):
    def __init__(self, hidden_size: int = 50):
        super().__init__()
        self.lstm = lstmkit.nn.LSTM(input_size=1, hidden_size=hidden_size)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)  # (B, T, H)
        return self.head(out[:, -1])  # the last step's state predicts the next value


def main() -> float:
    torch.manual_seed(0)
    series = torch.arange(1.0, 10.0)  # 1 .. 9
    scale = series.max()  # fitted on the training series only
    series = series / scale
    window = 3
    x = torch.stack([series[i : i + window] for i in range(len(series) - window)]).unsqueeze(-1)  # (6, 3, 1)
    y = series[window:].unsqueeze(-1)  # (6, 1): 4 .. 9

    model = NextValue()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(200):
        optimiser.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimiser.step()

    model.eval()
    with torch.no_grad():
        prediction = model(torch.tensor([[[7.0], [8.0], [9.0]]]) / scale).item() * scale.item()
    print(f"Training loss (scaled): {loss.item():.6f}")
    print(f"Predicted next value: {prediction:.2f}")
    return prediction


if __name__ == "__main__":
    main()
