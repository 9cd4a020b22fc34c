set terminal pngcairo size 800,600 enhanced
set encoding utf8
set output 'parity_energy.png'
set title 'test energy: RMSE 5.56 meV/atom (67 values)'
set xlabel 'reference energy per atom (eV/atom)'
set ylabel 'predicted energy per atom (eV/atom)'
set size square
set grid
set key top left
plot 'parity_energy.dat' using 1:2 with points pt 7 ps 0.5 title 'test', x with lines lc rgb 'gray' title 'y = x'
