set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"
set output "nve.png"
set xlabel "t (ps)"
set ylabel "E_{tot}/atom − E_{tot}/atom(0) (meV)"
set grid
set title "Cu crystal, NVE from 300 K, dt = 1 fs: total energy"
plot "nve_reference.dat" u 1:2 w l lw 2 lc rgb "#1f77b4" t "reference (eam/alloy)", "nve_facet.dat" u 1:2 w l lw 2 lc rgb "#d62728" t "facet (Cu-EAM)"
