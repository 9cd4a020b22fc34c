set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"
set output "vdos.png"
set xlabel "frequency (THz)"
set ylabel "VDOS (1/THz, area 1)"
set grid
set title "Si crystal, NVE near 300 K: vibrational DOS from the velocities"
plot "vdos_reference.dat" u 1:2 w l lw 2 lc rgb "#1f77b4" t "reference (sw)", "vdos_facet.dat" u 1:2 w l dt 2 lw 2 lc rgb "#d62728" t "facet (Si-SW-demo)"
