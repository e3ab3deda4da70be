"""One PyTorch measurement, the reference for `npm run bench`:
python3 bench/torch_model.py <first|deep> <train|infer> <seconds>
Same models as bench/models.js, channels-last, RMSprop with Keras's defaults, all cores.
Prints one JSON line like tfjs_model.js."""
import json, os, sys, time
import torch
from torch import nn

def first_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))

def deep_model():
    return nn.Sequential(
        nn.Conv2d(1, 64, 7, padding=3), nn.ReLU(), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(), nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256 * 3 * 3, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 10))

def main():
    model_name, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    torch.set_num_threads(os.cpu_count())
    model = {"first": first_model, "deep": deep_model}[model_name]().to(memory_format=torch.channels_last)
    batch = 64 if mode == "train" else 1000
    n = batch * 16 if mode == "train" else batch
    x = torch.rand(n, 1, 28, 28).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (n,))
    opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        if mode == "train":
            model.train()
            for i in range(0, n, batch):
                opt.zero_grad()
                loss = loss_fn(model(x[i:i + batch]), y[i:i + batch])
                loss.backward()
                opt.step()
        else:
            model.eval()
            with torch.no_grad():
                torch.softmax(model(x), 1)
        return n

    step()
    samples, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        samples += step()
    elapsed = time.perf_counter() - start
    print(json.dumps({"system": "pytorch", "model": model_name, "mode": mode, "samplesPerSec": samples / elapsed,
                      "samples": samples, "seconds": elapsed, "torch": torch.__version__}))

main()
